import { type Database, getTimer, openDatabase } from '@fuze/db';
import { type PostgresServerHandle, startPostgresServer, waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type BusFixture,
  freshStreams,
  put,
  readEvents,
  runScheduler,
  startBus,
  timerEvent,
} from './fixture.js';

let bus: BusFixture;
let pg: PostgresServerHandle;
let database: Database;

beforeAll(async () => {
  bus = await startBus();
  pg = await startPostgresServer();
  database = await openDatabase({ url: pg.url });
});
afterAll(async () => {
  await database?.close();
  await pg?.[Symbol.asyncDispose]();
  await bus?.close();
});

const OUTAGE_MS = 5_000;
const GRACE_MS = 1_000;

test('Postgres restarted: scheduling resumes by itself and the missed firings follow each misfire policy', {
  timeout: 90_000,
}, async () => {
  const streams = await freshStreams(bus);
  const scheduler = await runScheduler(bus, database, streams);
  try {
    for (const misfire of ['fire-all', 'fire-once', 'skip'] as const) {
      await put(database, `outage:${misfire}`, {
        event: timerEvent,
        rate: '1s',
        misfire,
        misfireGrace: '1s',
      });
    }
    const firings = async () => {
      const events = await readEvents(bus, streams.streams.events);
      const of = (key: string) =>
        events
          .filter((e) => e.event.id.startsWith(`${key}@`))
          .map((e) => ({
            dueMs: Date.parse(e.event.time!),
            lateMs: e.storedAtMs - Date.parse(e.event.time!),
          }));
      return {
        'fire-all': of('outage:fire-all'),
        'fire-once': of('outage:fire-once'),
        skip: of('outage:skip'),
        oneShot: of('outage:one-shot'),
      };
    };
    await waitFor(async () => Object.values(await firings()).every((f, i) => i === 3 || f.length >= 2), {
      message: 'the timers to be firing before the outage',
    });
    // Due during the outage: a one-shot timer fires late, once, whatever happened meanwhile.
    await put(database, 'outage:one-shot', { event: timerEvent, delay: '2s' });

    await pg.stop();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await pg.restart();
    const restartedAt = Date.now();

    const seen = await waitFor(
      async () => {
        const f = await firings();
        const after = (list: Array<{ dueMs: number }>) => list.filter((x) => x.dueMs > restartedAt).length;
        return after(f['fire-all']) >= 2 &&
          after(f['fire-once']) >= 2 &&
          after(f.skip) >= 2 &&
          f.oneShot.length === 1
          ? f
          : undefined;
      },
      { timeoutMs: 45_000, message: 'scheduling to resume after the restart' },
    );

    const gaps = (list: Array<{ dueMs: number }>) =>
      list.slice(1).filter((x, i) => x.dueMs - list[i]!.dueMs !== 1_000).length;
    const missed = (list: Array<{ lateMs: number }>) => list.filter((x) => x.lateMs > OUTAGE_MS / 2).length;
    for (const list of Object.values(seen)) {
      expect(new Set(list.map((x) => x.dueMs)).size).toBe(list.length); // never twice
    }
    // fire-all: every missed second fired late, none skipped.
    expect(gaps(seen['fire-all'])).toBe(0);
    expect(missed(seen['fire-all'])).toBeGreaterThanOrEqual(2);
    // fire-once: the first missed second fired once; the rest of the outage skipped.
    expect(missed(seen['fire-once'])).toBe(1);
    expect(gaps(seen['fire-once'])).toBe(1);
    // skip: nothing from the outage.
    expect(missed(seen.skip)).toBe(0);
    expect(gaps(seen.skip)).toBe(1);
    expect(seen.oneShot[0]!.lateMs).toBeGreaterThan(GRACE_MS);
    expect(await getTimer(database.db, 'outage:one-shot')).toMatchObject({
      state: 'completed',
      fireCount: 1,
    });
  } finally {
    await scheduler.stop();
  }
});
