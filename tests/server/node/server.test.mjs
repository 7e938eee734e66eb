// The `cairn serve` process itself: its startup line, the calls the clients
// make on their own when they connect (ServerFeatures, Gossip), and a clean
// exit on SIGTERM.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { CLIENT_KINDS, collect, parseLogLine, startServer, uniqueStream, withDiscover } from './harness.mjs';

// What this increment of `cairn serve` implements; each must be advertised.
const IMPLEMENTED = [
  '/event_store.client.streams.Streams/Read',
  '/event_store.client.streams.Streams/Append',
  '/event_store.client.streams.Streams/Delete',
  '/event_store.client.streams.Streams/Tombstone',
  '/event_store.client.server_features.ServerFeatures/GetSupportedMethods',
  '/event_store.client.gossip.Gossip/Read',
];

describe('server', () => {
  describe('startup', () => {
    let server;
    before(async () => {
      server = await startServer();
    });
    after(async () => {
      await server?.stop();
    });

    it('logs one JSON object per stderr line', () => {
      for (const line of server.stderrLines) assert.ok(parseLogLine(line), `not a JSON object: ${line}`);
    });

    it('announces an insecure loopback connection string on its port', () => {
      assert.ok(Number.isInteger(server.port) && server.port > 0 && server.port < 65536, `port ${server.port}`);
      const url = new URL(server.connectionString);
      assert.equal(url.protocol, 'kurrentdb:');
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(url.port, String(server.port));
      assert.equal(url.searchParams.get('tls'), 'false');
    });

    it('creates the store directory it was given', () => {
      assert.ok(existsSync(server.dir), `${server.dir} was not created`);
    });
  });

  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      const { NO_STREAM, jsonEvent } = kind.lib;
      let server;
      before(async () => {
        server = await startServer();
      });
      after(async () => {
        await server?.stop();
      });

      // Appends one event and reads it back through a fresh client: the
      // append goes through grpc-js (which first calls ServerFeatures); in 1.x
      // the read goes through the Rust bridge on its own connection, which
      // calls ServerFeatures again.
      const roundTrip = async (connectionString) => {
        const client = kind.connect(connectionString);
        try {
          const stream = uniqueStream('first');
          const sent = jsonEvent({ id: randomUUID(), type: 'First', data: { ok: true } });
          const result = await client.appendToStream(stream, sent, kind.appendOptions(NO_STREAM));
          assert.equal(result.nextExpectedRevision, 0n);
          const read = await collect(client.readStream(stream));
          assert.deepEqual(
            read.map(({ event }) => [event.id, event.data]),
            [[sent.id, { ok: true }]],
          );
        } finally {
          await client.dispose();
        }
      };

      it('a fresh client works from its first call', async () => {
        await roundTrip(server.connectionString);
      });

      it('advertises a numeric version and every implemented method', async () => {
        const client = kind.connect(server.connectionString);
        try {
          // The client's own ServerFeatures.GetSupportedMethods call.
          const features = await client.capabilities;
          assert.match(features.serverVersion, /^\d+\.\d+\.\d+$/);
          for (const path of IMPLEMENTED) assert.ok(features.supports({ path }), `${path} not advertised`);
        } finally {
          await client.dispose();
        }
      });

      it('a client told to discover finds the node through Gossip.Read', async () => {
        // Both halves of 1.x discover on their own: grpc-js, then the Rust
        // bridge (which needs maxDiscoverAttempts >= 2 even for one node, so
        // the default of 10 stays).
        await roundTrip(withDiscover(server.connectionString));
      });
    });
  }

  describe('SIGTERM', () => {
    it('exits 0 and logs "stopped", even with a client still connected', async () => {
      const server = await startServer();
      const [kind] = CLIENT_KINDS;
      const client = kind.connect(server.connectionString);
      const stream = uniqueStream('sigterm');
      await client.appendToStream(stream, kind.lib.jsonEvent({ type: 'Before', data: {} }));
      await collect(client.readStream(stream));

      const lines = await server.stop(); // asserts exit status 0
      const records = lines.map(parseLogLine);
      assert.ok(
        records.some((record) => record?.msg === 'stopped'),
        `no "stopped" line in:\n${lines.join('\n')}`,
      );
      await client.dispose();
    });
  });
});
