// Streams.Append through both official clients: expectations, failures with
// their exact fields, several events at once, JSON and binary round trips,
// idempotent retries.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  CLIENT_KINDS,
  assertWrongExpectedVersion,
  collect,
  comparePositions,
  startServer,
  summarize,
  uniqueStream,
} from './harness.mjs';

describe('append', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      const { ANY, NO_STREAM, STREAM_EXISTS, jsonEvent, binaryEvent } = kind.lib;
      let client;
      before(() => {
        client = kind.connect(server.connectionString);
      });
      after(async () => {
        await client?.dispose();
      });

      const event = (n) => jsonEvent({ id: randomUUID(), type: 'Tested', data: { n } });
      const append = (stream, events, state) => client.appendToStream(stream, events, kind.appendOptions(state));
      const read = async (stream) => (await collect(client.readStream(stream))).map(({ event }) => summarize(event));

      // A successful append: exact next revision and a position.
      const assertSuccess = (result, nextExpectedRevision) => {
        assert.equal(result.success, true);
        assert.equal(result.nextExpectedRevision, nextExpectedRevision);
        assert.equal(typeof result.position?.commit, 'bigint');
        assert.equal(typeof result.position?.prepare, 'bigint');
      };

      it('ANY creates a stream and then appends to it', async () => {
        const stream = uniqueStream('any');
        const first = await append(stream, event(0), ANY);
        assertSuccess(first, 0n);
        const second = await append(stream, event(1), ANY);
        assertSuccess(second, 1n);
        assert.equal(comparePositions(first.position, second.position), -1);
      });

      it('NO_STREAM creates a stream', async () => {
        const stream = uniqueStream('no-stream');
        assertSuccess(await append(stream, event(0), NO_STREAM), 0n);
      });

      it('STREAM_EXISTS appends to an existing stream', async () => {
        const stream = uniqueStream('exists');
        await append(stream, event(0), NO_STREAM);
        assertSuccess(await append(stream, event(1), STREAM_EXISTS), 1n);
      });

      it('an exact revision appends after that revision', async () => {
        const stream = uniqueStream('exact');
        await append(stream, [event(0), event(1)], NO_STREAM);
        assertSuccess(await append(stream, event(2), 1n), 2n);
        assert.deepEqual(
          (await read(stream)).map((e) => e.revision),
          [0n, 1n, 2n],
        );
      });

      it('NO_STREAM on an existing stream fails and writes nothing', async () => {
        const stream = uniqueStream('no-stream-fails');
        const existing = event(0);
        await append(stream, existing, NO_STREAM);
        await assertWrongExpectedVersion(kind, append(stream, event(1), NO_STREAM), {
          streamName: stream,
          expected: 'no_stream',
          actual: 0n,
        });
        assert.deepEqual((await read(stream)).map((e) => e.id), [existing.id]);
      });

      it('STREAM_EXISTS on a missing stream fails and writes nothing', async () => {
        const stream = uniqueStream('exists-fails');
        await assertWrongExpectedVersion(kind, append(stream, event(0), STREAM_EXISTS), {
          streamName: stream,
          expected: 'stream_exists',
          actual: 'no_stream',
        });
        await assert.rejects(read(stream), kind.lib.StreamNotFoundError);
      });

      it('a wrong exact revision fails with the actual revision', async () => {
        const stream = uniqueStream('exact-fails');
        await append(stream, [event(0), event(1)], NO_STREAM);
        await assertWrongExpectedVersion(kind, append(stream, event(2), 5n), {
          streamName: stream,
          expected: 5n,
          actual: 1n,
        });
        assert.deepEqual((await read(stream)).map((e) => e.revision), [0n, 1n]);
      });

      it('an exact revision on a missing stream fails with no_stream', async () => {
        const stream = uniqueStream('exact-missing');
        await assertWrongExpectedVersion(kind, append(stream, event(0), 0n), {
          streamName: stream,
          expected: 0n,
          actual: 'no_stream',
        });
      });

      it('several events in one append get consecutive revisions in order', async () => {
        const stream = uniqueStream('several');
        const events = [event(0), event(1), event(2)];
        const result = await append(stream, events, NO_STREAM);
        assertSuccess(result, 2n);
        const stored = await collect(client.readStream(stream));
        assert.deepEqual(
          stored.map(({ event }) => [event.revision, event.id, event.data]),
          [
            [0n, events[0].id, { n: 0 }],
            [1n, events[1].id, { n: 1 }],
            [2n, events[2].id, { n: 2 }],
          ],
        );
        // Cairn reports the position of the last event written.
        assert.deepEqual(stored[2].event.position, result.position);
      });

      it('a JSON event with JSON metadata round trips', async () => {
        const stream = uniqueStream('json');
        const data = { text: 'grüße, 世界', list: [1, 2.5, null, true], nested: { empty: {} } };
        const metadata = { correlationId: randomUUID(), count: 3 };
        const sent = jsonEvent({ id: randomUUID(), type: 'JsonTested', data, metadata });
        const sentAt = Date.now();
        const result = await append(stream, sent, NO_STREAM);
        const ackedAt = Date.now();
        assertSuccess(result, 0n);

        const [{ event }] = await collect(client.readStream(stream));
        assert.deepEqual(summarize(event), {
          streamId: stream,
          id: sent.id,
          revision: 0n,
          type: 'JsonTested',
          isJson: true,
          data,
          metadata,
        });
        assert.deepEqual(event.position, result.position);
        // `created` travels as 100 ns ticks since the Unix epoch; the 1.x
        // client keeps whole seconds only.
        assert.ok(event.created instanceof Date);
        const created = event.created.getTime();
        assert.ok(
          created >= Math.floor(sentAt / 1000) * 1000 && created <= ackedAt,
          `created ${event.created.toISOString()} outside the append's time`,
        );
      });

      it('a binary event with binary metadata round trips byte for byte', async () => {
        const stream = uniqueStream('binary');
        const data = Uint8Array.from([0x00, 0xff, 0x7b, 0x01, 0x80, 0x00, 0x22]);
        const metadata = Uint8Array.from([0xfe, 0x00, 0x41]); // not JSON, so it stays bytes
        const sent = binaryEvent({ id: randomUUID(), type: 'BinaryTested', data, metadata });
        const result = await append(stream, sent, NO_STREAM);
        assertSuccess(result, 0n);

        const [{ event }] = await collect(client.readStream(stream));
        assert.deepEqual(summarize(event), {
          streamId: stream,
          id: sent.id,
          revision: 0n,
          type: 'BinaryTested',
          isJson: false,
          data,
          metadata,
        });
      });

      it('an event without metadata reads back without metadata', async () => {
        const stream = uniqueStream('no-metadata');
        await append(stream, event(0), NO_STREAM);
        const [{ event: stored }] = await collect(client.readStream(stream));
        assert.equal(stored.metadata, undefined);
      });

      it('a retry with the same ids and expectation succeeds and stores nothing twice', async () => {
        const stream = uniqueStream('idempotent');
        const events = [event(0), event(1)];
        assertSuccess(await append(stream, events, NO_STREAM), 1n);
        assertSuccess(await append(stream, events, NO_STREAM), 1n);

        const next = event(2);
        assertSuccess(await append(stream, next, 1n), 2n);
        assertSuccess(await append(stream, next, 1n), 2n);

        assert.deepEqual(
          (await read(stream)).map((e) => [e.revision, e.id]),
          [
            [0n, events[0].id],
            [1n, events[1].id],
            [2n, next.id],
          ],
        );
      });
    });
  }
});
