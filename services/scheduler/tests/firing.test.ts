import { getTimer } from '@fuze/db';
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

describe('firing', () => {
  test('a one-shot timer fires once at its due time; the record stays, with its history', async () => {
    const streams = await freshStreams(bus);
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      const { timer } = await put(db.database, 'invoice:42:reminder', {
        event: { ...timerEvent, subject: 'invoice/42', data: { invoice: 42 } },
        delay: '300ms',
      });
      const dueMs = timer.nextFireAt!.getTime();
      await waitFor(async () => (await eventCount(bus, streams.streams.events)) === 1, {
        message: 'the timer event',
      });
      const [fired] = await readEvents(bus, streams.streams.events);
      expect(fired!.event).toEqual({
        specversion: '1.0',
        id: `invoice:42:reminder@${new Date(dueMs).toISOString()}#1`,
        source: timerEvent.source,
        type: timerEvent.type,
        subject: 'invoice/42',
        time: new Date(dueMs).toISOString(),
        data: { invoice: 42 },
      });
      expect(fired!.subject).toMatch(
        new RegExp(`^${streams.prefix.toLowerCase()}\\.events\\.default\\..*com\\.example\\.timer\\.fired$`),
      );
      expect(fired!.storedAtMs).toBeGreaterThanOrEqual(dueMs);
      const record = await waitFor(async () => {
        const row = await getTimer(db.database.db, 'invoice:42:reminder');
        return row?.state === 'completed' ? row : undefined;
      });
      expect(record).toMatchObject({ fireCount: 1, nextFireAt: null, generation: 1, origin: 'api' });
      expect(record.lastDueAt?.getTime()).toBe(dueMs);
      expect(record.lastFiredAt).toBeInstanceOf(Date);
      expect(record.event).toMatchObject({ data: { invoice: 42 } });
    } finally {
      await scheduler.stop();
    }
  });

  test('a rate timer fires once per due time, a period apart', async () => {
    const streams = await freshStreams(bus);
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      await put(db.database, 'retrain:model-a', { event: timerEvent, rate: '1s' });
      await waitFor(async () => (await eventCount(bus, streams.streams.events)) >= 3, {
        message: 'three firings',
      });
      const fired = (await readEvents(bus, streams.streams.events)).slice(0, 3);
      const dues = fired.map((f) => Date.parse(f.event.time!));
      expect(dues[1]! - dues[0]!).toBe(1_000);
      expect(dues[2]! - dues[1]!).toBe(1_000);
      expect(new Set(fired.map((f) => f.event.id)).size).toBe(3);
    } finally {
      await scheduler.stop();
    }
  });

  test('cron in a time zone, replayed across both DST changes of 2024 (fire-all catch-up)', async () => {
    const streams = await freshStreams(bus);
    await put(db.database, 'berlin-0230', {
      event: timerEvent,
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      misfire: 'fire-all',
    });
    // Pretend the timer has been due since 29 March 2024 and nothing ran: fire-all replays every day.
    await db.database.db.execute(
      sql`update timers set next_fire_at = '2024-03-29T01:30:00Z' where key = 'berlin-0230'`,
    );
    const scheduler = await runScheduler(bus, db.database, streams);
    try {
      const row = await waitFor(
        async () => {
          const r = await getTimer(db.database.db, 'berlin-0230');
          return r?.nextFireAt && r.nextFireAt.getTime() > Date.now() ? r : undefined;
        },
        { timeoutMs: 30_000, message: 'the catch-up to reach now' },
      );
      const times = (await readEvents(bus, streams.streams.events)).map((f) => f.event.time);
      expect(times.length).toBe(row.fireCount);
      expect(times.slice(0, 4)).toEqual([
        '2024-03-29T01:30:00.000Z', // 02:30 CET
        '2024-03-30T01:30:00.000Z',
        '2024-03-31T01:00:00.000Z', // 02:30 does not exist: first valid time after the gap, 03:00 CEST
        '2024-04-01T00:30:00.000Z', // 02:30 CEST
      ]);
      const october = times.filter((t) => t! >= '2024-10-26' && t! < '2024-10-29');
      // 27 October: 02:30 happens twice (CEST, then CET); a fixed-time job runs once.
      expect(october).toEqual([
        '2024-10-26T00:30:00.000Z',
        '2024-10-27T00:30:00.000Z',
        '2024-10-28T01:30:00.000Z',
      ]);
      expect(new Set(times).size).toBe(times.length);
    } finally {
      await scheduler.stop();
    }
  });
});
