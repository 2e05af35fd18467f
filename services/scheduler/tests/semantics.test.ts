import type { PublishAck, PublishRequest } from '@fuze/bus';
import {
  type CloudEventRecord,
  defaultRouting,
  encodeEventMessage,
  FuzeError,
  isFuzeError,
  systemEventTypes,
} from '@fuze/core';
import { cancelTimer, getTimer, recordDeadLetteredFirings } from '@fuze/db';
import { waitFor } from '@fuze/test/harness';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  type BusFixture,
  eventCount,
  freshStreams,
  openTestDatabase,
  put,
  readEvents,
  runScheduler,
  startBus,
  timerEvent,
} from './fixture.js';

let bus: BusFixture;
let db: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  bus = await startBus();
  db = await openTestDatabase();
});
beforeEach(async () => {
  await db.database.db.execute(sql`delete from timers`);
});
afterAll(async () => {
  await db?.close();
  await bus?.close();
});

/** A publisher that holds every publish until released, to stop a firing between claim and commit. */
function gatedPublisher(inner: BusFixture['publisher']) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered!: () => void;
  const reached = new Promise<void>((resolve) => {
    entered = resolve;
  });
  return {
    reached,
    release,
    async publish(request: PublishRequest): Promise<PublishAck> {
      entered();
      await gate;
      return inner.publish(request);
    },
  };
}

/** Sessions of this database waiting for a row lock (a put or cancel queued behind a firing). */
async function lockWaiters(): Promise<number> {
  const result = await db.database.db.execute(
    sql`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`,
  );
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{
    n: number;
  }>;
  return rows[0]!.n;
}

describe('races with a firing (documented in docs/timers.md)', () => {
  test('a cancel that arrives while the timer is firing waits: the event is published once, then the timer is cancelled', async () => {
    const streams = await freshStreams(bus);
    const publisher = gatedPublisher(bus.publisher);
    await put(db.database, 'race:cancel', { event: timerEvent, delay: '0s' });
    const scheduler = await runScheduler(bus, db.database, streams, { publisher });
    try {
      await publisher.reached; // claimed and locked; its event is on its way
      const cancelled = cancelTimer(db.database.db, 'race:cancel');
      await waitFor(async () => (await lockWaiters()) > 0, {
        message: 'the cancel to wait for the row lock',
      });
      publisher.release();
      expect((await cancelled)?.state).toBe('cancelled');
      const events = await readEvents(bus, streams.streams.events);
      expect(events.map((e) => e.event.id)).toEqual([expect.stringMatching(/^race:cancel@.*#1$/)]);
      expect(await getTimer(db.database.db, 'race:cancel')).toMatchObject({
        state: 'cancelled',
        fireCount: 1,
        generation: 2,
        nextFireAt: null,
      });
    } finally {
      publisher.release();
      await scheduler.stop();
    }
  });

  test("a firing's dead letter that comes before the scheduler commits the firing is recorded after the commit: the outcome ends dead-lettered, not published", async () => {
    const streams = await freshStreams(bus);
    const publisher = gatedPublisher(bus.publisher);
    const { timer } = await put(db.database, 'race:dead-letter', { event: timerEvent, delay: '0s' });
    const scheduler = await runScheduler(bus, db.database, streams, { publisher });
    try {
      await publisher.reached; // claimed and being published, not committed
      const firing = {
        key: 'race:dead-letter',
        generation: timer.generation,
        dueMs: timer.nextFireAt!.getTime(),
        eventSource: timerEvent.source,
        deadLetterId: 'dead-letter-1',
        rule: 'reminders',
        target: 'mailer',
        error: 'HTTP 503',
      };
      expect(await recordDeadLetteredFirings(db.database.db, [firing])).toEqual({
        timers: [firing],
        awaitingCommit: [firing],
      });
      publisher.release();
      await waitFor(async () => (await getTimer(db.database.db, 'race:dead-letter'))?.state === 'completed', {
        message: 'the firing committed',
      });
      expect((await getTimer(db.database.db, 'race:dead-letter'))?.lastOutcome).toMatchObject({
        state: 'published',
      });
      expect(await recordDeadLetteredFirings(db.database.db, [firing])).toEqual({
        timers: [firing],
        awaitingCommit: [],
      });
      expect((await getTimer(db.database.db, 'race:dead-letter'))?.lastOutcome).toMatchObject({
        state: 'dead-lettered',
        deadLetterId: 'dead-letter-1',
      });
    } finally {
      publisher.release();
      await scheduler.stop();
    }
  });

  test('a replace that arrives while the timer is firing waits, then re-arms: old and new each fire once', async () => {
    const streams = await freshStreams(bus);
    const publisher = gatedPublisher(bus.publisher);
    await put(db.database, 'race:replace', { event: { ...timerEvent, data: { v: 1 } }, delay: '0s' });
    const scheduler = await runScheduler(bus, db.database, streams, { publisher });
    try {
      await publisher.reached;
      const replaced = put(db.database, 'race:replace', {
        event: { ...timerEvent, data: { v: 2 } },
        delay: '200ms',
      });
      await waitFor(async () => (await lockWaiters()) > 0, {
        message: 'the replace to wait for the row lock',
      });
      publisher.release();
      const { timer, created } = await replaced;
      expect(created).toBe(false);
      expect(timer).toMatchObject({ state: 'scheduled', generation: 2, fireCount: 1 });
      await waitFor(async () => (await eventCount(bus, streams.streams.events)) === 2, {
        message: 'the new firing',
      });
      const events = (await readEvents(bus, streams.streams.events)).map((e) => e.event);
      expect(events.map((e) => [e.data, e.id.slice(-2)])).toEqual([
        [{ v: 1 }, '#1'],
        [{ v: 2 }, '#2'],
      ]);
      await waitFor(async () => (await getTimer(db.database.db, 'race:replace'))?.state === 'completed');
      expect(await getTimer(db.database.db, 'race:replace')).toMatchObject({ fireCount: 2, generation: 2 });
    } finally {
      publisher.release();
      await scheduler.stop();
    }
  });

  test('a cancel committed before the claim wins: the timer never fires', async () => {
    const streams = await freshStreams(bus);
    await put(db.database, 'race:early-cancel', { event: timerEvent, delay: '0s' });
    await put(db.database, 'race:control', { event: timerEvent, delay: '0s' });
    await cancelTimer(db.database.db, 'race:early-cancel');
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      await waitFor(async () => (await getTimer(db.database.db, 'race:control'))?.state === 'completed');
      const ids = (await readEvents(bus, streams.streams.events)).map((e) => e.event.id);
      expect(ids).toEqual([expect.stringMatching(/^race:control@/)]);
    } finally {
      await scheduler.stop();
    }
  });

  test('published but not committed (a crash between the two): the retry is dropped by JetStream', async () => {
    const streams = await freshStreams(bus);
    await put(db.database, 'crash:between', { event: timerEvent, delay: '0s' });
    // The first attempt stores the event, then fails as if the process died before its commit.
    let attempts = 0;
    const flaky = {
      async publish(request: PublishRequest): Promise<PublishAck> {
        const ack = await bus.publisher.publish(request);
        attempts++;
        if (attempts === 1) throw new Error('crashed after publishing, before committing');
        return ack;
      },
    };
    const scheduler = await runScheduler(bus, db.database, streams, { publisher: flaky });
    try {
      await waitFor(async () => (await getTimer(db.database.db, 'crash:between'))?.state === 'completed');
      expect(attempts).toBe(2);
      expect(await eventCount(bus, streams.streams.events)).toBe(1);
      expect((await getTimer(db.database.db, 'crash:between'))?.fireCount).toBe(1);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('a timer event JetStream refuses', () => {
  test('marks the timer failed with the reason, instead of retrying a write that cannot succeed', async () => {
    const streams = await freshStreams(bus);
    const info = await bus.jsm.streams.info(streams.streams.events);
    // A size limit makes JetStream refuse the write itself: no retry can help.
    await bus.jsm.streams.update(streams.streams.events, { ...info.config, max_msg_size: 64 });
    await put(db.database, 'refused:too-big', { event: timerEvent, delay: '0s' });
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      await waitFor(async () => (await getTimer(db.database.db, 'refused:too-big'))?.state === 'failed', {
        message: 'the timer to be marked failed',
      });
      expect(await getTimer(db.database.db, 'refused:too-big')).toMatchObject({
        state: 'failed',
        lastError: expect.stringMatching(/JetStream refused/),
      });
      expect(await eventCount(bus, streams.streams.events)).toBe(0);
    } finally {
      await scheduler.stop();
    }
  });

  test('with system events on: announced as dev.fuze.timer.failed; a refused announcement fails nothing', async () => {
    const streams = await freshStreams(bus);
    // Refuse only the timer's own event, as JetStream does (a FUZE_PUBLISH_FAILED with its code).
    const refusing = {
      publish: (request: PublishRequest) =>
        request.subject.includes('.events.default.')
          ? Promise.reject(
              new FuzeError(
                'FUZE_PUBLISH_FAILED',
                'JetStream refused: message size exceeds maximum allowed',
                {
                  details: { jetstreamCode: 10054 },
                },
              ),
            )
          : bus.publisher.publish(request),
    };
    await put(db.database, 'refused:announced', { event: timerEvent, delay: '0s' });
    const scheduler = await runScheduler(bus, db.database, streams, {
      publisher: refusing,
      systemEvents: new Set(systemEventTypes),
    });
    try {
      await waitFor(async () => (await getTimer(db.database.db, 'refused:announced'))?.state === 'failed');
      const stored = await readEvents(bus, streams.streams.events);
      expect(stored.map((e) => e.event)).toEqual([
        expect.objectContaining({
          type: 'dev.fuze.timer.failed',
          subject: 'refused:announced',
          data: expect.objectContaining({ reason: 'rejected', key: 'refused:announced' }),
        }),
      ]);
    } finally {
      await scheduler.stop();
    }
    // The stream refuses everything over 64 bytes, announcements too: the timer is still marked failed.
    const strict = await freshStreams(bus);
    const info = await bus.jsm.streams.info(strict.streams.events);
    await bus.jsm.streams.update(strict.streams.events, { ...info.config, max_msg_size: 64 });
    await put(db.database, 'refused:strict', { event: timerEvent, delay: '0s' });
    const second = await runScheduler(bus, db.database, strict, { systemEvents: new Set(systemEventTypes) });
    try {
      await waitFor(async () => (await getTimer(db.database.db, 'refused:strict'))?.state === 'failed');
    } finally {
      await second.stop();
    }
  });
});

describe('misfire policies', () => {
  test('after an outage longer than the grace: fire-all replays, fire-once fires the first missed time, skip fires none', async () => {
    const streams = await freshStreams(bus);
    for (const misfire of ['fire-all', 'fire-once', 'skip'] as const) {
      await put(db.database, `misfire:${misfire}`, {
        event: timerEvent,
        rate: '1s',
        misfire,
        misfireGrace: '1s',
      });
    }
    // As if no scheduler had run for 5.5 s: the first due time is long past.
    await db.database.db.execute(
      sql`update timers set next_fire_at = date_trunc('milliseconds', now()) - interval '5500 milliseconds'`,
    );
    const [row] = await db.database.db
      .execute(sql`select next_fire_at from timers limit 1`)
      .then((r) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows));
    const firstDue = new Date(String((row as { next_fire_at: string | Date }).next_fire_at)).getTime();
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      const byKey = async () => {
        const events = await readEvents(bus, streams.streams.events);
        const dues = (key: string) =>
          events.filter((e) => e.event.id.startsWith(`${key}@`)).map((e) => Date.parse(e.event.time!));
        return { all: dues('misfire:fire-all'), once: dues('misfire:fire-once'), skip: dues('misfire:skip') };
      };
      const seen = await waitFor(
        async () => {
          const d = await byKey();
          return d.all.length >= 8 && d.once.length >= 2 && d.skip.length >= 2 ? d : undefined;
        },
        { timeoutMs: 15_000, message: 'firings of all three timers' },
      );
      // fire-all: every missed second, then on: an unbroken sequence from the first due time.
      expect(seen.all.slice(0, 8)).toEqual(Array.from({ length: 8 }, (_, i) => firstDue + i * 1_000));
      // fire-once: the first missed time once, then the next due time after the outage, in phase.
      expect(seen.once[0]).toBe(firstDue);
      expect(seen.once[1]! - firstDue).toBeGreaterThanOrEqual(6_000);
      expect((seen.once[1]! - firstDue) % 1_000).toBe(0);
      // skip: nothing from the outage.
      expect(seen.skip[0]! - firstDue).toBeGreaterThanOrEqual(6_000);
      expect((seen.skip[0]! - firstDue) % 1_000).toBe(0);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('delayed delivery', () => {
  const heldEvent = (id: string, extension: Record<string, string>): CloudEventRecord => ({
    specversion: '1.0',
    id,
    source: '/tests/delayed',
    type: 'com.example.order.reminder',
    time: '2030-01-01T00:00:00.000Z',
    data: { order: id },
    ...extension,
  });

  test('deliverat and delay hold an event until its time; it enters the bus once, as it was, less the extensions', async () => {
    const streams = await freshStreams(bus);
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      const deliverAt = new Date(Date.now() + 800).toISOString();
      const byTime = encodeEventMessage(
        streams.prefix,
        'default',
        heldEvent('o-1', { deliverat: deliverAt }),
        defaultRouting,
      );
      const sentAt = Date.now();
      const byDelay = encodeEventMessage(
        streams.prefix,
        'default',
        heldEvent('o-2', { delay: '600ms' }),
        defaultRouting,
        sentAt,
      );
      expect(byTime.subject).toBe(
        `${streams.prefix.toLowerCase()}.delayed.default.com.example.order.reminder`,
      );
      await bus.publisher.publish(byTime);
      await bus.publisher.publish(byDelay);
      // The same event published again (same source+id) while held: still one delivery.
      await bus.publisher.publish(byTime);
      await waitFor(async () => (await eventCount(bus, streams.streams.events)) >= 2, {
        message: 'both held events to enter the bus',
      });
      const events = await readEvents(bus, streams.streams.events);
      expect(events.map((e) => e.event)).toEqual(
        expect.arrayContaining([
          {
            specversion: '1.0',
            id: 'o-1',
            source: '/tests/delayed',
            type: 'com.example.order.reminder',
            time: '2030-01-01T00:00:00.000Z',
            data: { order: 'o-1' },
          },
          expect.objectContaining({ id: 'o-2', data: { order: 'o-2' } }),
        ]),
      );
      const o1 = events.find((e) => e.event.id === 'o-1')!;
      const o2 = events.find((e) => e.event.id === 'o-2')!;
      expect(o1.storedAtMs).toBeGreaterThanOrEqual(Date.parse(deliverAt));
      expect(o2.storedAtMs).toBeGreaterThanOrEqual(sentAt + 600);
      expect(o1.event).not.toHaveProperty('deliverat');
      expect(o2.event).not.toHaveProperty('delay');
      await waitFor(async () => (await eventCount(bus, streams.streams.delayed)) === 0, {
        message: 'the delayed stream to be drained (work queue, acked after the commit)',
      });
      expect(await eventCount(bus, streams.streams.events)).toBe(2);
      const rows = await waitFor(async () => {
        const result = await db.database.db.execute(
          sql`select origin, state, fire_count::int as fire_count from timers where state = 'completed'`,
        );
        const all = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
        return all.length === 2 ? all : undefined;
      });
      expect(rows).toEqual([
        { origin: 'delayed', state: 'completed', fire_count: 1 },
        { origin: 'delayed', state: 'completed', fire_count: 1 },
      ]);
    } finally {
      await scheduler.stop();
    }
  });

  test('a due time already past (or a zero delay) goes straight into the events stream', async () => {
    const streams = await freshStreams(bus);
    const past = encodeEventMessage(
      streams.prefix,
      'default',
      heldEvent('p-1', { deliverat: '2000-01-01T00:00:00Z' }),
      defaultRouting,
    );
    const zero = encodeEventMessage(
      streams.prefix,
      'default',
      heldEvent('p-2', { delay: '0s' }),
      defaultRouting,
    );
    expect(past.subject).toMatch(/\.events\.default\./);
    expect(zero.subject).toMatch(/\.events\.default\./);
    expect(JSON.parse(new TextDecoder().decode(past.payload))).not.toHaveProperty('deliverat');
  });

  test('an unreadable deliverat or delay is a FUZE_INVALID_EVENT naming the attribute', () => {
    for (const [extension, pointer] of [
      [{ deliverat: 'tomorrow' }, 'deliverat'],
      [{ delay: 'soon' }, 'delay'],
      [{ deliverat: '2030-01-01T00:00:00Z', delay: '5s' }, 'deliverat'],
    ] as const) {
      try {
        encodeEventMessage('FUZE', 'default', heldEvent('x', extension), defaultRouting);
        throw new Error('expected a rejection');
      } catch (err) {
        expect(isFuzeError(err, 'FUZE_INVALID_EVENT')).toBe(true);
        expect(
          (err as { details: { problems: Array<{ pointer: string }> } }).details.problems[0]!.pointer,
        ).toBe(pointer);
      }
    }
  });
});
