// Starts a real `cairn serve` on loopback and connects the official Node
// clients to it. Every test file starts its own server on a fresh directory.
//
// The two clients differ where the tests touch them; `CLIENT_KINDS` hides the
// differences so each test is written once and run against both:
//   - the append expectation is `streamState` in 1.x, `expectedRevision` in 6.x
//     (1.x silently ignores `expectedRevision` on appends and sends `any`);
//   - WrongExpectedVersionError carries expectedState/actualState in 1.x,
//     expectedVersion/actualVersion in 6.x;
//   - 6.x's readAll has no filter option (it always sends no_filter);
//   - 1.x reads through the Rust client, which turns a read from END into a
//     backwards read and one from START into a forwards read, and reports a
//     refused read as the bridge's AccessDeniedError (no gRPC status or
//     trailers on it); everything else, in both clients, goes through grpc-js;
//   - 6.x parses only esdb:// connection strings, 1.x prefers kurrentdb://;
//   - a subscription's 'caughtUp' and 'fellBehind' carry { date, revision }
//     or { date, position } in 1.x, nothing in 6.x.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

// One client per process: both clients' generated protobuf code registers
// the same global names (event_store.client.streams.BatchAppendReq.Options
// with different oneof groups in 1.x and 6.x), so loading both breaks 1.x's
// BatchAppend. run-node-tests.sh runs every file once per client, naming it
// in CAIRN_NODE_CLIENT (kurrentdb or eventstore).
const wanted = process.env.CAIRN_NODE_CLIENT ?? 'kurrentdb';
if (wanted !== 'kurrentdb' && wanted !== 'eventstore') {
  throw new Error(`CAIRN_NODE_CLIENT must be kurrentdb or eventstore, not ${wanted}`);
}
const kurrent = wanted === 'kurrentdb' ? await import('@kurrent/kurrentdb-client') : null;
const esdb = wanted === 'eventstore' ? await import('@eventstore/db-client') : null;

const LISTEN_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

// Resolves with `value` after `ms`, without keeping the process alive.
const delay = (ms, value) => sleep(ms, value, { ref: false });

// Parses one stderr line; null when it is not a JSON object.
export function parseLogLine(line) {
  try {
    const value = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

// Spawns `$CAIRN_BIN serve` and resolves once it logs "listening". The
// store is `<mkdtemp>/db`, a directory that does not exist yet and is
// removed by `stop()`; or `dir`, which the caller owns (kept on stop, so a
// second server can open the same store). `insecure: false` with
// `extraArgs: ['--dev']` serves TLS with the development certificate and
// users; connect with `withCredentials(connectionString, user, password)`.
export async function startServer({ insecure = true, extraArgs = [], dir: givenDir } = {}) {
  const bin = process.env.CAIRN_BIN;
  assert.ok(bin, 'CAIRN_BIN must name the cairn binary');

  const root = givenDir === undefined ? await mkdtemp(path.join(tmpdir(), 'cairn-serve-')) : null;
  const dir = givenDir ?? path.join(root, 'db');
  const removeRoot = () => (root === null ? undefined : rm(root, { recursive: true, force: true }));
  const args = ['serve', '--db', dir, '--port', '0', ...(insecure ? ['--insecure'] : []), ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const stderrLines = [];
  const stdoutLines = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => stdoutLines.push(line));
  const stderr = readline.createInterface({ input: child.stderr });
  stderr.on('line', (line) => stderrLines.push(line));

  // `exited` resolves with { code, signal } when the process ends; `drained`
  // waits (briefly) until its output has been read to the end.
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve({ code, signal });
    });
  });
  const closed = new Promise((resolve) => child.on('close', resolve));
  const drained = () => Promise.race([closed, delay(2_000)]);
  const spawnFailed = new Promise((_, reject) => child.on('error', reject));

  const describeOutput = () =>
    `command: ${bin} ${args.join(' ')}\nstderr:\n${stderrLines.join('\n')}\nstdout:\n${stdoutLines.join('\n')}`;

  let listening;
  try {
    listening = await Promise.race([
      new Promise((resolve) => {
        const onLine = (line) => {
          const record = parseLogLine(line);
          if (record?.msg === 'listening') {
            stderr.off('line', onLine);
            resolve(record);
          }
        };
        stderr.on('line', onLine);
      }),
      spawnFailed,
      exited.then(async ({ code, signal }) => {
        await drained();
        throw new Error(`cairn serve exited (code ${code}, signal ${signal}) before listening\n${describeOutput()}`);
      }),
      new Promise((_, reject) => {
        setTimeout(
          () => reject(new Error(`cairn serve did not log "listening" within ${LISTEN_TIMEOUT_MS} ms\n${describeOutput()}`)),
          LISTEN_TIMEOUT_MS,
        ).unref();
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await removeRoot();
    throw error;
  }

  assert.equal(typeof listening.port, 'number', `listening line without a numeric port\n${describeOutput()}`);
  assert.equal(typeof listening.connection_string, 'string', `listening line without connection_string\n${describeOutput()}`);

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      try {
        assert.deepEqual(
          { code: child.exitCode, signal: child.signalCode },
          { code: null, signal: null },
          `cairn serve died before stop()\n${describeOutput()}`,
        );
        child.kill('SIGTERM');
        const result = await Promise.race([exited, delay(STOP_TIMEOUT_MS, null)]);
        if (result === null) {
          child.kill('SIGKILL');
          await exited;
          assert.fail(`cairn serve did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${describeOutput()}`);
        }
        await drained();
        assert.deepEqual(result, { code: 0, signal: null }, `cairn serve exit after SIGTERM\n${describeOutput()}`);
        return stderrLines;
      } finally {
        await removeRoot();
      }
    })();
    return stopping;
  };

  return {
    port: listening.port,
    connectionString: listening.connection_string,
    dir,
    pid: child.pid,
    stderrLines,
    stop,
  };
}

// Replaces the scheme of a connection string, keeping "+discover".
export function withScheme(connectionString, scheme) {
  const match = /^([a-z]+)(\+discover)?:\/\//.exec(connectionString);
  assert.ok(match, `not a connection string: ${connectionString}`);
  return `${scheme}${match[2] ?? ''}://${connectionString.slice(match[0].length)}`;
}

// Puts `user:password@` (percent-encoded) in front of the host, replacing
// any credentials already there. Both halves of 1.x (grpc-js and the Rust
// bridge) and 6.x take the caller's credentials from here.
export function withCredentials(connectionString, user, password) {
  const match = /^([a-z]+(?:\+discover)?:\/\/)(?:[^@/?]*@)?/.exec(connectionString);
  assert.ok(match, `not a connection string: ${connectionString}`);
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return `${match[1]}${credentials}${connectionString.slice(match[0].length)}`;
}

// Adds "+discover" so the client finds the node through Gossip.Read.
export function withDiscover(connectionString) {
  return connectionString.replace(/^([a-z]+)(\+discover)?:\/\//, '$1+discover://');
}

// What differs between the two official clients, named once.
export const CLIENT_KINDS = [
  {
    name: '@kurrent/kurrentdb-client',
    lib: kurrent,
    connect: (connectionString) => kurrent.KurrentDBClient.connectionString(withScheme(connectionString, 'kurrentdb')),
    appendOptions: (state) => ({ streamState: state }),
    wrongExpected: (error) => ({
      streamName: error.streamName,
      expected: error.expectedState,
      actual: error.actualState,
    }),
    readAllFilters: true,
    endReadsBackwards: true,
    readsThroughRust: true,
    reportsCaughtUpPosition: true,
  },
  {
    name: '@eventstore/db-client',
    lib: esdb,
    connect: (connectionString) => esdb.EventStoreDBClient.connectionString(withScheme(connectionString, 'esdb')),
    appendOptions: (state) => ({ expectedRevision: state }),
    wrongExpected: (error) => ({
      streamName: error.streamName,
      expected: error.expectedVersion,
      actual: error.actualVersion,
    }),
    readAllFilters: false,
    endReadsBackwards: false,
    readsThroughRust: false,
    reportsCaughtUpPosition: false,
  },
].filter((kind) => kind.lib !== null);

// A stream name no other test uses.
export function uniqueStream(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

// Reads a client's async iterable of resolved events to the end.
export async function collect(iterable) {
  const out = [];
  for await (const resolved of iterable) out.push(resolved);
  return out;
}

// A recorded event reduced to what the tests compare. Byte payloads become
// plain Uint8Arrays: 1.x returns Buffers, 6.x Uint8Arrays.
export function summarize(event) {
  const bytes = (value) => (value instanceof Uint8Array ? Uint8Array.from(value) : value);
  return {
    streamId: event.streamId,
    id: event.id,
    revision: event.revision,
    type: event.type,
    isJson: event.isJson,
    data: bytes(event.data),
    metadata: bytes(event.metadata),
  };
}

// Orders two $all positions: commit first, then prepare.
export function comparePositions(a, b) {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

// Asserts that `promise` rejects with the client's WrongExpectedVersionError
// carrying exactly these fields.
export async function assertWrongExpectedVersion(kind, promise, fields) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof kind.lib.WrongExpectedVersionError, `expected WrongExpectedVersionError, got ${error?.stack ?? error}`);
    assert.deepEqual(kind.wrongExpected(error), fields);
    return true;
  });
}

// Asserts that `promise` rejects with exactly `ErrorClass` naming `streamName`.
export async function assertStreamError(promise, ErrorClass, streamName) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof ErrorClass, `expected ${ErrorClass.name}, got ${error?.stack ?? error}`);
    assert.equal(error.streamName, streamName);
    return true;
  });
}
