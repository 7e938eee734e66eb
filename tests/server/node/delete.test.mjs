// Streams.Delete (soft) and Streams.Tombstone (hard) through both official
// clients, and what reads and appends see afterwards.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  CLIENT_KINDS,
  assertStreamError,
  assertWrongExpectedVersion,
  collect,
  comparePositions,
  startServer,
  uniqueStream,
} from './harness.mjs';

describe('delete', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      const { ANY, NO_STREAM, StreamNotFoundError, StreamDeletedError, jsonEvent } = kind.lib;
      let client;
      before(() => {
        client = kind.connect(server.connectionString);
      });
      after(async () => {
        await client?.dispose();
      });

      const newEvents = (count) =>
        Array.from({ length: count }, (_, n) => jsonEvent({ id: randomUUID(), type: 'Deleted', data: { n } }));
      const append = (stream, events, state) => client.appendToStream(stream, events, kind.appendOptions(state));
      const read = (stream) => collect(client.readStream(stream));
      // A stream holding revisions 0..count-1; resolves with the append result.
      const streamWith = (stream, count) => append(stream, newEvents(count), NO_STREAM);

      const assertPositionAfter = (result, previous) => {
        assert.equal(typeof result.position?.commit, 'bigint');
        assert.equal(comparePositions(previous, result.position), -1);
      };

      describe('deleteStream', () => {
        it('hides the stream from reads', async () => {
          const stream = uniqueStream('soft');
          const written = await streamWith(stream, 3);
          assertPositionAfter(await client.deleteStream(stream), written.position);
          await assertStreamError(read(stream), StreamNotFoundError, stream);
        });

        it('with the exact last revision succeeds', async () => {
          const stream = uniqueStream('soft-exact');
          await streamWith(stream, 3);
          await client.deleteStream(stream, { expectedRevision: 2n });
          await assertStreamError(read(stream), StreamNotFoundError, stream);
        });

        for (const [label, state] of [
          ['ANY', () => ANY],
          ['NO_STREAM', () => NO_STREAM],
          ['the last revision', () => 2n],
        ]) {
          it(`an append with ${label} after it continues the revisions, and reads show only the new events`, async () => {
            const stream = uniqueStream('recreate');
            await streamWith(stream, 3);
            await client.deleteStream(stream);

            const fresh = newEvents(2);
            const result = await append(stream, fresh, state());
            assert.equal(result.success, true);
            assert.equal(result.nextExpectedRevision, 4n);
            assert.deepEqual(
              (await read(stream)).map(({ event }) => [event.revision, event.id]),
              [
                [3n, fresh[0].id],
                [4n, fresh[1].id],
              ],
            );
          });
        }

        it('a recreated stream exists again: NO_STREAM then fails', async () => {
          const stream = uniqueStream('recreated');
          await streamWith(stream, 2);
          await client.deleteStream(stream);
          await append(stream, newEvents(1), NO_STREAM);
          await assertWrongExpectedVersion(kind, append(stream, newEvents(1), NO_STREAM), {
            streamName: stream,
            expected: 'no_stream',
            actual: 2n,
          });
        });

        // Delete answers a failed expectation with trailers, which both
        // clients parse as numbers: -1 no stream, -2 any.
        it('with a wrong expected revision is a WrongExpectedVersionError', async () => {
          const stream = uniqueStream('soft-wrong');
          await streamWith(stream, 3);
          await assertWrongExpectedVersion(kind, client.deleteStream(stream, { expectedRevision: 5n }), {
            streamName: stream,
            expected: 5n,
            actual: 2n,
          });
          assert.equal((await read(stream)).length, 3);
        });

        it('with NO_STREAM on an existing stream is a WrongExpectedVersionError', async () => {
          const stream = uniqueStream('soft-no-stream');
          await streamWith(stream, 1);
          await assertWrongExpectedVersion(kind, client.deleteStream(stream, { expectedRevision: NO_STREAM }), {
            streamName: stream,
            expected: -1n,
            actual: 0n,
          });
        });

        it('of a stream that never existed fails even with ANY', async () => {
          const stream = uniqueStream('soft-never');
          await assertWrongExpectedVersion(kind, client.deleteStream(stream, { expectedRevision: ANY }), {
            streamName: stream,
            expected: -2n,
            actual: -1n,
          });
        });

        it('of a tombstoned stream is a StreamDeletedError', async () => {
          const stream = uniqueStream('soft-after-hard');
          await streamWith(stream, 1);
          await client.tombstoneStream(stream);
          await assertStreamError(client.deleteStream(stream), StreamDeletedError, stream);
        });
      });

      describe('tombstoneStream', () => {
        it('makes appends and reads fail with StreamDeletedError', async () => {
          const stream = uniqueStream('hard');
          const written = await streamWith(stream, 2);
          assertPositionAfter(await client.tombstoneStream(stream), written.position);
          for (const state of [ANY, NO_STREAM, 1n]) {
            await assertStreamError(append(stream, newEvents(1), state), StreamDeletedError, stream);
          }
          await assertStreamError(read(stream), StreamDeletedError, stream);
        });

        it('with the exact last revision succeeds', async () => {
          const stream = uniqueStream('hard-exact');
          await streamWith(stream, 2);
          await client.tombstoneStream(stream, { expectedRevision: 1n });
          await assertStreamError(read(stream), StreamDeletedError, stream);
        });

        it('with a wrong expected revision is a WrongExpectedVersionError', async () => {
          const stream = uniqueStream('hard-wrong');
          await streamWith(stream, 2);
          await assertWrongExpectedVersion(kind, client.tombstoneStream(stream, { expectedRevision: 0n }), {
            streamName: stream,
            expected: 0n,
            actual: 1n,
          });
          assert.equal((await read(stream)).length, 2);
        });

        it('of a stream that never existed succeeds', async () => {
          const stream = uniqueStream('hard-never');
          await client.tombstoneStream(stream, { expectedRevision: NO_STREAM });
          await assertStreamError(read(stream), StreamDeletedError, stream);
        });

        it('of a tombstoned stream is a StreamDeletedError', async () => {
          const stream = uniqueStream('hard-twice');
          await streamWith(stream, 1);
          await client.tombstoneStream(stream);
          await assertStreamError(client.tombstoneStream(stream), StreamDeletedError, stream);
        });
      });
    });
  }
});
