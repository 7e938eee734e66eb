// Catch-up subscriptions (Streams.Read with `subscription`) through both
// official clients: stream and $all subscriptions from every kind of start,
// history then exactly one caughtUp then live events, filters and their
// checkpoints, a tombstoned stream, and a server that stops under them.
//
// Both clients subscribe through grpc-js with the same Subscription class
// (a Transform stream over the call's ReadResp messages): 'confirmation',
// 'caughtUp' and 'fellBehind' are events on it, checkpoints reach only the
// filter's `checkpointReached` callback, events come as 'data' or through
// async iteration, `unsubscribe()` cancels the call (the stream then ends
// without an error), and a call that fails is an 'error' event, which an
// async iteration throws after the events before it.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';

import {
  CLIENT_KINDS,
  assertStreamError,
  collect,
  comparePositions,
  startServer,
  summarize,
  uniqueStream,
} from './harness.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// The revision of a tombstone ($streamDeleted): 2^63 - 1.
const TOMBSTONE_REVISION = 2n ** 63n - 1n;

// Records what a subscription reports, in the order the client handled the
// server's messages. The client handles one ReadResp at a time: it emits
// 'confirmation', 'caughtUp' or 'fellBehind', awaits the filter's
// checkpointReached, or pushes the event, which in flowing mode (a 'data'
// listener that keeps up) is emitted as 'data' at once. So `entries` is the
// order of the messages on the wire.
class Recording {
  // { kind: 'confirmation' | 'caughtUp' | 'fellBehind', info } | { kind: 'event', resolved } | { kind: 'checkpoint', position }
  entries = [];
  error = null;
  ended = false; // 'end' was emitted
  #waiters = new Set();

  // For a filter's `checkpointReached`.
  checkpointReached = (_subscription, position) => this.#add({ kind: 'checkpoint', position });

  attach(subscription) {
    subscription
      .on('confirmation', () => this.#add({ kind: 'confirmation' }))
      .on('caughtUp', (info) => this.#add({ kind: 'caughtUp', info }))
      .on('fellBehind', (info) => this.#add({ kind: 'fellBehind', info }))
      .on('data', (resolved) => this.#add({ kind: 'event', resolved }))
      .on('error', (error) => {
        this.error = error;
        this.#wake();
      })
      .on('end', () => {
        this.ended = true;
        this.#wake();
      });
    return subscription;
  }

  get events() {
    return this.entries.filter((e) => e.kind === 'event').map((e) => e.resolved.event);
  }

  count(kind) {
    return this.entries.filter((e) => e.kind === kind).length;
  }

  // The entries as comparable values: events as `eventShape(event)`, the
  // rest by kind. Checkpoints are left out; `checkpoints()` has them.
  shape(eventShape = (e) => [e.revision, e.id]) {
    return this.entries
      .filter((e) => e.kind !== 'checkpoint')
      .map((e) => (e.kind === 'event' ? eventShape(e.resolved.event) : e.kind));
  }

  // What the 'caughtUp' or 'fellBehind' entries carried, in order.
  infos(kind) {
    return this.entries.filter((e) => e.kind === kind).map((e) => e.info);
  }

  // Each checkpoint with the event delivered last before it (null if none)
  // and whether it came before the first caughtUp.
  checkpoints() {
    const out = [];
    let last = null;
    let live = false;
    for (const e of this.entries) {
      if (e.kind === 'event') last = e.resolved.event;
      if (e.kind === 'caughtUp') live = true;
      if (e.kind === 'checkpoint') out.push({ position: e.position, lastEvent: last, live });
    }
    return out;
  }

  // Resolves once `test()` holds; rejects if the subscription fails or
  // ends first.
  until(what, test) {
    return new Promise((resolve, reject) => {
      const waiter = { what, test, resolve, reject };
      this.#waiters.add(waiter);
      this.#settle(waiter);
    });
  }

  // Resolves once `count` events have arrived.
  untilEvents(count) {
    return this.until(`${count} events`, () => this.count('event') >= count);
  }

  // Resolves once the subscription has caught up `times` times.
  untilCaughtUp(times = 1) {
    return this.until(`caughtUp #${times}`, () => this.count('caughtUp') >= times);
  }

  // Resolves once the stream has ended without an error.
  untilEnded() {
    return this.until('the end', () => this.ended && !this.error);
  }

  // Resolves with the error the subscription fails with.
  untilFailed() {
    return this.until('an error', () => this.error).then(() => this.error);
  }

  #add(entry) {
    this.entries.push(entry);
    this.#wake();
  }

  #wake() {
    for (const waiter of this.#waiters) this.#settle(waiter);
  }

  #settle(waiter) {
    if (waiter.test()) {
      this.#waiters.delete(waiter);
      waiter.resolve();
    } else if (this.error || this.ended) {
      this.#waiters.delete(waiter);
      const how = this.error ? `failed with ${this.error.stack ?? this.error}` : 'ended';
      waiter.reject(new Error(`subscription ${how} while waiting for ${waiter.what}; it reported ${this.#describe()}`));
    }
  }

  #describe() {
    return inspect(this.shape((e) => `${e.streamId}@${e.revision}`), { maxArrayLength: 20 });
  }
}

// A recording entry in short, for messages.
function brief(entry) {
  if (entry.kind === 'event') {
    const { streamId, revision, position } = entry.resolved.event;
    return `event ${streamId}@${revision} at ${position.commit}`;
  }
  if (entry.kind === 'checkpoint') return `checkpoint at ${entry.position.commit}`;
  return entry.info ? `${entry.kind} ${inspect(entry.info)}` : entry.kind;
}

// Subscribes through `subscribe(recording)` and records it.
function record(subscribe) {
  const recording = new Recording();
  const subscription = recording.attach(subscribe(recording));
  return { recording, subscription };
}

// Asserts what a 'caughtUp' or 'fellBehind' carried: in 1.x
// `{ date, ...expected }` with a date from the server's clock, at or after
// `since` (ms); nothing in 6.x.
function assertLiveInfo(kind, info, expected, since) {
  if (!kind.reportsCaughtUpPosition) {
    assert.equal(info, undefined);
    return;
  }
  const { date, ...rest } = info;
  assert.ok(date instanceof Date, `no date in ${inspect(info)}`);
  assert.ok(date.getTime() >= since && date.getTime() <= Date.now(), `date ${date.toISOString()}`);
  assert.deepEqual(rest, expected);
}

// Asserts the checkpoint rules: positions never go backwards and are never
// below the last event delivered before them.
function assertCheckpointOrder(recording) {
  let previous = null;
  for (const [n, { position, lastEvent }] of recording.checkpoints().entries()) {
    assert.equal(typeof position.commit, 'bigint');
    assert.equal(typeof position.prepare, 'bigint');
    if (previous) assert.notEqual(comparePositions(previous, position), 1, `checkpoint ${n} goes backwards`);
    if (lastEvent) {
      assert.notEqual(comparePositions(lastEvent.position, position), 1, `checkpoint ${n} is below the event before it`);
    }
    previous = position;
  }
}

describe('subscribe', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      const { NO_STREAM, START, END, StreamDeletedError, jsonEvent } = kind.lib;
      const { excludeSystemEvents, streamNameFilter } = kind.lib;
      let client;
      before(() => {
        client = kind.connect(server.connectionString);
      });
      after(async () => {
        await client?.dispose();
      });

      const newEvents = (count, type = 'Subscribed') =>
        Array.from({ length: count }, (_, n) => jsonEvent({ id: randomUUID(), type, data: { n } }));
      const append = (stream, events, state) => client.appendToStream(stream, events, kind.appendOptions(state));
      // [revision, id] of `events` written from revision `first` on.
      const revisions = (events, first) => events.map((e, n) => [BigInt(first + n), e.id]);

      describe('subscribeToStream', () => {
        it('from START: history in order, one caughtUp, live events, and unsubscribe ends it', async () => {
          const stream = uniqueStream('sub-start');
          const history = newEvents(3);
          await append(stream, history, NO_STREAM);

          const since = Date.now();
          const { recording, subscription } = record(() => client.subscribeToStream(stream, { fromRevision: START }));
          await recording.untilCaughtUp();
          const live = [newEvents(2), newEvents(1)];
          await append(stream, live[0], 2n);
          await append(stream, live[1], 4n);
          await recording.untilEvents(6);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(), [
            'confirmation',
            ...revisions(history, 0),
            'caughtUp',
            ...revisions([...live[0], ...live[1]], 3),
          ]);
          assert.deepEqual(
            recording.events.map(summarize),
            [...history, ...live[0], ...live[1]].map((sent, n) => ({
              streamId: stream,
              id: sent.id,
              revision: BigInt(n),
              type: 'Subscribed',
              isJson: true,
              data: sent.data,
              metadata: undefined,
            })),
          );
          const stored = await collect(client.readStream(stream));
          assert.deepEqual(
            recording.events.map((e) => e.position),
            stored.map(({ event }) => event.position),
          );
          assert.match(subscription.id, UUID);
          assertLiveInfo(kind, recording.infos('caughtUp')[0], { revision: 2n }, since);
          assert.deepEqual(recording.checkpoints(), []);
        });

        it('appends racing the catch-up arrive once each, in order, around one caughtUp', async () => {
          const stream = uniqueStream('sub-race');
          const history = newEvents(100);
          await append(stream, history, NO_STREAM);

          const since = Date.now();
          const { recording, subscription } = record(() => client.subscribeToStream(stream));
          // Not waiting for caughtUp: these land before, during or after the
          // switch from history to live.
          const racing = [];
          for (let n = 0; n < 20; n++) {
            const batch = newEvents(3);
            await append(stream, batch, BigInt(99 + 3 * n));
            racing.push(...batch);
          }
          await recording.untilEvents(160);
          await recording.untilCaughtUp();
          await subscription.unsubscribe();
          await recording.untilEnded();

          const shape = recording.shape();
          assert.deepEqual(
            shape.filter((e) => e !== 'caughtUp'),
            ['confirmation', ...revisions([...history, ...racing], 0)],
          );
          assert.equal(recording.count('caughtUp'), 1);
          const caughtUpAt = shape.indexOf('caughtUp');
          assert.ok(caughtUpAt > 100, `caughtUp after ${caughtUpAt - 1} events, before the history's end`);
          const [lastRevision] = shape[caughtUpAt - 1];
          assertLiveInfo(kind, recording.infos('caughtUp')[0], { revision: lastRevision }, since);
        });

        it('from a revision starts after it; from the last revision only live events come', async () => {
          const stream = uniqueStream('sub-revision');
          const history = newEvents(5);
          await append(stream, history, NO_STREAM);

          const since = Date.now();
          const fromTwo = record(() => client.subscribeToStream(stream, { fromRevision: 2n }));
          const fromLast = record(() => client.subscribeToStream(stream, { fromRevision: 4n }));
          await fromTwo.recording.untilCaughtUp();
          await fromLast.recording.untilCaughtUp();
          const live = newEvents(1);
          await append(stream, live, 4n);
          await fromTwo.recording.untilEvents(3);
          await fromLast.recording.untilEvents(1);
          await fromTwo.subscription.unsubscribe();
          await fromLast.subscription.unsubscribe();
          await fromTwo.recording.untilEnded();
          await fromLast.recording.untilEnded();

          assert.deepEqual(fromTwo.recording.shape(), [
            'confirmation',
            ...revisions(history.slice(3), 3),
            'caughtUp',
            ...revisions(live, 5),
          ]);
          assertLiveInfo(kind, fromTwo.recording.infos('caughtUp')[0], { revision: 4n }, since);
          assert.deepEqual(fromLast.recording.shape(), ['confirmation', 'caughtUp', ...revisions(live, 5)]);
          // "the revision it started after"
          assertLiveInfo(kind, fromLast.recording.infos('caughtUp')[0], { revision: 4n }, since);
        });

        it('from END: only events appended after subscribing', async () => {
          const stream = uniqueStream('sub-end');
          await append(stream, newEvents(5), NO_STREAM);

          const { recording, subscription } = record(() => client.subscribeToStream(stream, { fromRevision: END }));
          await recording.untilCaughtUp();
          const live = [newEvents(2), newEvents(1)];
          await append(stream, live[0], 4n);
          await append(stream, live[1], 6n);
          await recording.untilEvents(3);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(), ['confirmation', 'caughtUp', ...revisions([...live[0], ...live[1]], 5)]);
        });

        it('async iteration from a revision yields the events after it, then live ones', async () => {
          const stream = uniqueStream('sub-iterate');
          const history = newEvents(4);
          await append(stream, history, NO_STREAM);

          const subscription = client.subscribeToStream(stream, { fromRevision: 1n });
          const caughtUp = once(subscription, 'caughtUp');
          const seen = [];
          const iterated = (async () => {
            for await (const { event } of subscription) {
              seen.push([event.revision, event.id]);
              if (seen.length === 4) break; // ends the iteration; unsubscribe() ends the call
            }
          })();
          await caughtUp;
          const live = newEvents(2);
          await append(stream, live, 3n);
          await iterated;
          await subscription.unsubscribe();

          assert.deepEqual(seen, [...revisions(history.slice(2), 2), ...revisions(live, 4)]);
        });

        it('of a stream that does not exist yet: caughtUp, then its first events when appended', async () => {
          const stream = uniqueStream('sub-missing');
          const since = Date.now();
          const { recording, subscription } = record(() => client.subscribeToStream(stream));
          await recording.untilCaughtUp();
          assert.deepEqual(recording.shape(), ['confirmation', 'caughtUp']);
          assertLiveInfo(kind, recording.infos('caughtUp')[0], {}, since);

          const first = newEvents(2);
          await append(stream, first, NO_STREAM);
          await recording.untilEvents(2);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(), ['confirmation', 'caughtUp', ...revisions(first, 0)]);
        });

        it('of a tombstoned stream: the async iteration throws StreamDeletedError naming it', async () => {
          const stream = uniqueStream('sub-tombstoned');
          await append(stream, newEvents(2), NO_STREAM);
          await client.tombstoneStream(stream);
          await assertStreamError(collect(client.subscribeToStream(stream)), StreamDeletedError, stream);
        });

        it("of a tombstoned stream: an 'error' event, before any confirmation", async () => {
          const stream = uniqueStream('sub-tombstoned-event');
          await client.tombstoneStream(stream, { expectedRevision: NO_STREAM });
          const { recording } = record(() => client.subscribeToStream(stream));
          const error = await recording.untilFailed();

          assert.ok(error instanceof StreamDeletedError, `expected StreamDeletedError, got ${error?.stack ?? error}`);
          assert.equal(error.streamName, stream);
          assert.deepEqual(recording.entries, []);
        });

        // docs/format/kurrentdb-v1.md ("Subscriptions"), as KurrentDB does
        // (Enumerator.StreamSubscription.cs: SendEventToSubscription writes
        // the event, then throws StreamDeleted).
        const tombstoneTodo =
          'cairn ends the call with stream-deleted without sending the $streamDeleted event first';
        it('tombstoned while subscribed: the $streamDeleted event, then StreamDeletedError', { todo: tombstoneTodo }, async () => {
          const stream = uniqueStream('sub-tombstoned-live');
          const history = newEvents(2);
          await append(stream, history, NO_STREAM);
          const { recording } = record(() => client.subscribeToStream(stream));
          await recording.untilCaughtUp();
          await client.tombstoneStream(stream);
          const error = await recording.untilFailed();

          assert.ok(error instanceof StreamDeletedError, `expected StreamDeletedError, got ${error?.stack ?? error}`);
          assert.equal(error.streamName, stream);
          assert.deepEqual(recording.shape((e) => [e.streamId, e.revision, e.type]), [
            'confirmation',
            [stream, 0n, 'Subscribed'],
            [stream, 1n, 'Subscribed'],
            'caughtUp',
            [stream, TOMBSTONE_REVISION, '$streamDeleted'],
          ]);
        });
      });

      describe('subscribeToAll', () => {
        const p = `s${randomUUID().replaceAll('-', '').slice(0, 10)}`;
        // Appends `count` events to `${p}-${name}`; resolves with them and the append result.
        const appendTo = async (name, count, state = NO_STREAM) => {
          const events = newEvents(count, `${p}Type`);
          const result = await append(`${p}-${name}`, events, state);
          return { events, result };
        };
        const ids = (...batches) => batches.flatMap(({ events }) => events.map((e) => e.id));
        const idOf = (e) => e.id;

        it('from START with excludeSystemEvents: ours in order, no system events, one caughtUp, live events', async () => {
          const a = await appendTo('x-a', 2);
          const b = await appendTo('x-b', 3);
          const mine = (e) => e.streamId.startsWith(`${p}-x-`);

          const since = Date.now();
          const { recording, subscription } = record((r) =>
            client.subscribeToAll({
              fromPosition: START,
              filter: excludeSystemEvents({ checkpointReached: r.checkpointReached }),
            }),
          );
          await recording.untilCaughtUp();
          const liveA = await appendTo('x-a', 1, 1n);
          const liveB = await appendTo('x-b', 2, 2n);
          await recording.until('the live events', () => recording.events.filter(mine).length === 8);
          await subscription.unsubscribe();
          await recording.untilEnded();

          const shape = recording.shape((e) => e);
          const caughtUpAt = shape.indexOf('caughtUp');
          assert.equal(shape[0], 'confirmation');
          assert.equal(recording.count('confirmation'), 1);
          assert.equal(recording.count('caughtUp'), 1);
          const history = shape.slice(1, caughtUpAt);
          const live = shape.slice(caughtUpAt + 1);
          assert.deepEqual(history.filter(mine).map(idOf), ids(a, b));
          assert.deepEqual(live.map(idOf), ids(liveA, liveB));
          assert.deepEqual(recording.events.filter((e) => e.type.startsWith('$')), []);
          for (let i = 1; i < recording.events.length; i++) {
            const [previous, next] = [recording.events[i - 1], recording.events[i]];
            assert.equal(comparePositions(previous.position, next.position), -1, `positions at ${i - 1} and ${i}`);
          }
          assert.deepEqual(live.at(-1).position, liveB.result.position);

          // A checkpoint before caughtUp; caughtUp at the last position checkpointed.
          assertCheckpointOrder(recording);
          const checkpoints = recording.checkpoints();
          const lastBefore = checkpoints.filter((c) => !c.live).at(-1);
          assert.ok(lastBefore, 'no checkpoint before caughtUp');
          assertLiveInfo(kind, recording.infos('caughtUp')[0], { position: lastBefore.position }, since);
        });

        it('from START with a streamNameFilter prefix: exactly ours, in order', async () => {
          const a = await appendTo('n-a', 2);
          await appendTo('other', 2); // not under the prefix
          const b = await appendTo('n-b', 1);

          const since = Date.now();
          const { recording, subscription } = record((r) =>
            client.subscribeToAll({
              fromPosition: START,
              filter: streamNameFilter({ prefixes: [`${p}-n-`], checkpointReached: r.checkpointReached }),
            }),
          );
          await recording.untilCaughtUp();
          await appendTo('other', 1, 1n);
          const liveA = await appendTo('n-a', 2, 1n);
          await recording.untilEvents(5);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(idOf), ['confirmation', ...ids(a, b), 'caughtUp', ...ids(liveA)]);
          assert.deepEqual(recording.events.at(-1).position, liveA.result.position);
          assertCheckpointOrder(recording);
          const lastBefore = recording.checkpoints().filter((c) => !c.live).at(-1);
          assert.ok(lastBefore, 'no checkpoint before caughtUp');
          assertLiveInfo(kind, recording.infos('caughtUp')[0], { position: lastBefore.position }, since);
        });

        it('from the position an append returned: exactly the events appended after it', async () => {
          const marker = await appendTo('pos-marker', 1);
          const later = await appendTo('pos-a', 2);
          const laterStill = await appendTo('pos-b', 1);

          const since = Date.now();
          const { recording, subscription } = record(() =>
            client.subscribeToAll({ fromPosition: marker.result.position }),
          );
          await recording.untilCaughtUp();
          const live = await appendTo('pos-a', 2, 1n);
          await recording.untilEvents(5);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(idOf), ['confirmation', ...ids(later, laterStill), 'caughtUp', ...ids(live)]);
          assert.deepEqual(
            recording.events.map((e) => e.streamId),
            [`${p}-pos-a`, `${p}-pos-a`, `${p}-pos-b`, `${p}-pos-a`, `${p}-pos-a`],
          );
          assertLiveInfo(kind, recording.infos('caughtUp')[0], { position: laterStill.result.position }, since);
          assert.deepEqual(recording.checkpoints(), []);
        });

        it('from END: only events appended after subscribing', async () => {
          await appendTo('end-a', 2);
          const { recording, subscription } = record(() => client.subscribeToAll({ fromPosition: END }));
          await recording.untilCaughtUp();
          const live = await appendTo('end-a', 2, 1n);
          await recording.untilEvents(2);
          await subscription.unsubscribe();
          await recording.untilEnded();

          assert.deepEqual(recording.shape(idOf), ['confirmation', 'caughtUp', ...ids(live)]);
        });

        // The client awaits checkpointReached before it handles the next
        // message, so a callback that does not return stops the subscriber
        // without reordering anything. Held on the first live checkpoint
        // while 3000 events of 1 KB are appended, it leaves far more than the
        // server queues (1024 messages) plus what HTTP/2 flow control lets
        // through (64 KiB per stream), so the server must drop back.
        describe('a live subscriber that stops reading', () => {
          const appended = [];
          let recording;
          let since;

          before(async () => {
            const marker = await appendTo('slow-marker', 1);
            let gate = null;
            let release;
            since = Date.now();
            let subscription;
            ({ recording, subscription } = record((r) =>
              client.subscribeToAll({
                fromPosition: marker.result.position,
                filter: streamNameFilter({
                  prefixes: [`${p}-slow-`],
                  maxSearchWindow: 1,
                  checkpointInterval: 1, // a checkpoint after every event
                  checkpointReached: async (s, position) => {
                    r.checkpointReached(s, position);
                    if (gate) await gate;
                  },
                }),
              }),
            ));
            await recording.untilCaughtUp();
            gate = new Promise((resolve) => {
              release = resolve;
            });
            const pad = 'x'.repeat(1000);
            for (let n = 0; n < 30; n++) {
              const batch = Array.from({ length: 100 }, (_, i) =>
                jsonEvent({ id: randomUUID(), type: `${p}Slow`, data: { n, i, pad } }),
              );
              await append(`${p}-slow-${n % 2}`, batch, n < 2 ? NO_STREAM : BigInt(100 * Math.floor(n / 2) - 1));
              appended.push(...batch);
            }
            gate = null;
            release();
            await recording.until(
              'every event and a caughtUp after the last fellBehind',
              () => recording.count('event') >= 3000 && recording.count('caughtUp') === recording.count('fellBehind') + 1,
            );
            await subscription.unsubscribe();
            await recording.untilEnded();
          });

          // Each fellBehind with the entries just before and after it.
          const aroundFellBehind = () =>
            recording.entries.flatMap((entry, n) => {
              if (entry.kind !== 'fellBehind') return [];
              const lastEvent = recording.entries.slice(0, n).findLast((e) => e.kind === 'event').resolved.event;
              return [{ entry, next: recording.entries[n + 1], lastEvent, near: recording.entries.slice(n - 2, n + 4).map(brief) }];
            });

          it('gets every event once, in order', () => {
            assert.deepEqual(recording.events.map(idOf), appended.map(idOf));
          });

          it('falls behind, and each fellBehind is followed by a caughtUp, the last after every event', () => {
            const fellBehind = recording.count('fellBehind');
            assert.ok(fellBehind >= 1, 'never fell behind');
            const shape = recording.shape(() => 'event');
            assert.deepEqual(
              shape.filter((e) => e !== 'event'),
              ['confirmation', 'caughtUp', ...Array(fellBehind).fill(['fellBehind', 'caughtUp']).flat()],
            );
            assert.equal(shape.at(-1), 'caughtUp');
          });

          it('fellBehind carries the last position sent; caughtUp the last checkpointed', () => {
            for (const { entry, lastEvent } of aroundFellBehind()) {
              assertLiveInfo(kind, entry.info, { position: lastEvent.position }, since);
            }
            let lastCheckpoint = null;
            for (const entry of recording.entries) {
              if (entry.kind === 'checkpoint') lastCheckpoint = entry.position;
              if (entry.kind === 'caughtUp') assertLiveInfo(kind, entry.info, { position: lastCheckpoint }, since);
            }
          });

          it('checkpoints never go backwards, nor below the event before them', () => {
            assertCheckpointOrder(recording);
          });

          // docs/format/kurrentdb-v1.md ("Checkpoints"): "On falling behind:
          // fell_behind (Cairn), then a checkpoint at the last position sent."
          it('each fellBehind is followed by a checkpoint at the last position sent', () => {
            for (const { next, lastEvent, near } of aroundFellBehind()) {
              assert.deepEqual(
                next?.kind === 'checkpoint' ? next.position : next?.kind,
                lastEvent.position,
                `after a fellBehind: ${inspect(near)}`,
              );
            }
          });
        });
      });
    });
  }
});

// Cadence of checkpoints on a store of its own, holding only the 384
// matching events appended here (and the live ones the first test adds), so
// that every event of $all is considered and matches.
describe('subscribe: checkpoints', () => {
  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      const { START, jsonEvent, eventTypeFilter } = kind.lib;
      const p = `c${randomUUID().replaceAll('-', '').slice(0, 10)}`;
      const type = `${p}Counted`;
      const appended = [];
      let server;
      let client;

      before(async () => {
        server = await startServer();
        client = kind.connect(server.connectionString);
        for (let n = 0; n < 12; n++) {
          const batch = Array.from({ length: 32 }, (_, i) => jsonEvent({ id: randomUUID(), type, data: { n, i } }));
          await client.appendToStream(`${p}-${n % 3}`, batch);
          appended.push(...batch);
        }
      });
      after(async () => {
        await client?.dispose();
        await server?.stop();
      });

      // Subscribes from START with `filterOptions`, waits for caughtUp and
      // `then(recording)`, and checks history, order and the checkpoint
      // count before caughtUp: at least floor(history / interval) (one per
      // interval considered events), at most one more (the one at the end of
      // history). Resolves with the recording.
      const subscribeCounting = async (filterOptions, interval, then = async () => {}) => {
        const since = Date.now();
        const history = appended.length;
        const { recording, subscription } = record((r) =>
          client.subscribeToAll({
            fromPosition: START,
            filter: eventTypeFilter({ prefixes: [p], ...filterOptions, checkpointReached: r.checkpointReached }),
          }),
        );
        await recording.untilCaughtUp();
        await then(recording);
        await subscription.unsubscribe();
        await recording.untilEnded();

        const shape = recording.shape((e) => e.id);
        assert.deepEqual(shape.slice(0, history + 2), ['confirmation', ...appended.slice(0, history).map((e) => e.id), 'caughtUp']);
        assert.equal(recording.count('caughtUp'), 1);

        assertCheckpointOrder(recording);
        const before = recording.checkpoints().filter((c) => !c.live);
        const least = Math.floor(history / interval);
        assert.ok(
          before.length >= least && before.length <= least + 1,
          `${before.length} checkpoints before caughtUp for ${history} events, interval ${interval}`,
        );
        assert.ok(
          comparePositions(before.at(-1).position, recording.events[history - 1].position) >= 0,
          'the last checkpoint before caughtUp is below the last event',
        );
        assertLiveInfo(kind, recording.infos('caughtUp')[0], { position: before.at(-1).position }, since);
        return recording;
      };

      it('default window, checkpointInterval 2: 6 to 7 checkpoints for 384 events, then one after the 64th live', async () => {
        assert.equal(appended.length, 384);
        const recording = await subscribeCounting({ checkpointInterval: 2 }, 64, async (r) => {
          for (let n = 0; n < 4; n++) {
            const batch = Array.from({ length: 16 }, (_, i) => jsonEvent({ id: randomUUID(), type, data: { live: n, i } }));
            await client.appendToStream(`${p}-live`, batch);
            appended.push(...batch);
          }
          // One more, so that the checkpoint after the 64th has come when it has.
          const last = jsonEvent({ id: randomUUID(), type, data: { live: 4 } });
          await client.appendToStream(`${p}-live`, last);
          appended.push(last);
          await r.untilEvents(449);
        });
        // 384 is a multiple of 64: the 64th live event brings one checkpoint,
        // at its position, right after it.
        const shapeAfterCaughtUp = recording.entries
          .slice(recording.entries.findIndex((e) => e.kind === 'caughtUp') + 1)
          .map((e) => (e.kind === 'event' ? 'event' : e.kind));
        assert.deepEqual(shapeAfterCaughtUp, [...Array(64).fill('event'), 'checkpoint', 'event']);
        const live = recording.checkpoints().filter((c) => c.live);
        assert.deepEqual(live.map((c) => c.position), [recording.events[447].position]);
      });

      it('maxSearchWindow 16, checkpointInterval 3: a checkpoint per 48 considered events', async () => {
        await subscribeCounting({ maxSearchWindow: 16, checkpointInterval: 3 }, 48);
      });
    });
  }
});

describe('subscribe: server stop', () => {
  for (const kind of CLIENT_KINDS) {
    describe(kind.name, () => {
      it('ends active subscriptions with UnavailableError "server is shutting down", and the server exits 0', async () => {
        const server = await startServer();
        const client = kind.connect(server.connectionString);
        try {
          const stream = uniqueStream('sub-stop');
          const history = [0, 1].map((n) => kind.lib.jsonEvent({ id: randomUUID(), type: 'Stopped', data: { n } }));
          await client.appendToStream(stream, history, kind.appendOptions(kind.lib.NO_STREAM));

          const toStream = record(() => client.subscribeToStream(stream));
          const toAll = record(() => client.subscribeToAll());
          const iterated = client.subscribeToStream(stream);
          const iteratedCaughtUp = once(iterated, 'caughtUp');
          // Settled at once, so that its rejection is never unhandled.
          const iterationError = collect(iterated).then(
            () => null,
            (error) => error,
          );
          await toStream.recording.untilCaughtUp();
          await toAll.recording.untilCaughtUp();
          await iteratedCaughtUp;

          // Asserts exit status 0. Takes the server's 5 s grace: the client's
          // idle BatchAppend call (its appends) is a call in flight.
          await server.stop();

          const assertShuttingDown = (error) => {
            assert.ok(error instanceof kind.lib.UnavailableError, `expected UnavailableError, got ${error?.stack ?? error}`);
            assert.equal(error.message, '14 UNAVAILABLE: server is shutting down');
          };
          assertShuttingDown(await toStream.recording.untilFailed());
          assertShuttingDown(await toAll.recording.untilFailed());
          assertShuttingDown(await iterationError);
          const expected = ['confirmation', [0n, history[0].id], [1n, history[1].id], 'caughtUp'];
          assert.deepEqual(toStream.recording.shape(), expected);
          assert.deepEqual(toAll.recording.shape(), expected);
        } finally {
          await client.dispose();
        }
      });
    });
  }
});
