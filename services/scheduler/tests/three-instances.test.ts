import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FuzeProcess, spawnFuze, waitFor } from '@fuze/test/harness';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  type BusFixture,
  eventCount,
  freshStreams,
  openTestDatabase,
  put,
  readEvents,
  startBus,
  timerEvent,
} from './fixture.js';

let bus: BusFixture;
let db: Awaited<ReturnType<typeof openTestDatabase>>;
const dataDir = mkdtempSync(join(tmpdir(), 'fuze-scheduler-test-'));
const processes: FuzeProcess[] = [];

beforeAll(async () => {
  bus = await startBus();
  db = await openTestDatabase();
});
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await db?.close();
  await bus?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const ONE_SHOT = 6_000;
const RECURRING = 20;

test('three scheduler processes, one SIGKILLed mid-batch: every due time fires exactly once', {
  timeout: 120_000,
}, async () => {
  const streams = await freshStreams(bus);
  const env = (name: string, level: string) => ({
    FUZE_NATS_URL: bus.nats.url,
    FUZE_DATABASE_URL: db.testDb.url,
    FUZE_STREAM_PREFIX: streams.prefix,
    FUZE_DATA_DIR: join(dataDir, name),
    FUZE_LOG_LEVEL: level,
    // Each process would listen on the default ports otherwise; 0 picks a free one.
    FUZE_METRICS_PORT: '0',
    FUZE_ADMIN_PORT: '0',
    FUZE_GATEWAY_PORT: '0',
  });
  // The victim logs each batch (debug) so the test knows it is firing when it kills it.
  const victim = spawnFuze(['serve', '--services', 'scheduler'], env('victim', 'debug'));
  const others = [1, 2].map((i) => spawnFuze(['serve', '--services', 'scheduler'], env(`s${i}`, 'info')));
  processes.push(victim, ...others);
  await Promise.all([victim, ...others].map((p) => p.waitForLog('fuze is running', 60_000)));

  for (let i = 0; i < RECURRING; i++) await put(db.database, `tick:${i}`, { event: timerEvent, rate: '1s' });
  // A burst: 6,000 one-shot timers due over 3 seconds, starting 2 seconds from now.
  await db.database.db.execute(sql`
      insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at)
      select 'burst:' || g, 'default', 'api', ${JSON.stringify(timerEvent)}::jsonb,
             jsonb_build_object('kind', 'at', 'at', now()), 'fire-once', 'scheduled',
             date_trunc('milliseconds', now()) + interval '2 seconds' + (g % 3000) * interval '1 millisecond'
      from generate_series(1, ${ONE_SHOT}) g`);

  await victim.waitForLog('"fired timers"', 30_000);
  await waitFor(
    async () =>
      (await eventCount(bus, streams.streams.events, `${streams.prefix.toLowerCase()}.events.default.>`)) >=
      1_000,
    {
      timeoutMs: 30_000,
      message: 'the burst to be under way',
    },
  );
  victim.child.kill('SIGKILL');
  expect(await victim.exited).toBeNull(); // killed by the signal, no clean exit

  await waitFor(
    async () => {
      const result = await db.database.db.execute(
        sql`select count(*)::int as n from timers where key like 'burst:%' and state <> 'completed'`,
      );
      const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{
        n: number;
      }>;
      return rows[0]!.n === 0;
    },
    { timeoutMs: 60_000, message: 'every one-shot timer to have fired' },
  );
  // Let the recurring timers tick a few more times on the two survivors, then stop them cleanly.
  const ticksBefore = await eventCount(
    bus,
    streams.streams.events,
    `${streams.prefix.toLowerCase()}.events.default.>`,
  );
  await waitFor(
    async () =>
      (await eventCount(bus, streams.streams.events, `${streams.prefix.toLowerCase()}.events.default.>`)) >=
      ticksBefore + 3 * RECURRING,
    {
      timeoutMs: 30_000,
      message: 'the recurring timers to keep firing',
    },
  );
  for (const p of others) p.child.kill('SIGTERM');
  expect(await Promise.all(others.map((p) => p.exited))).toEqual([0, 0]);

  const stored = await readEvents(bus, streams.streams.events);
  const events = stored.filter((e) => e.event.type === timerEvent.type);
  const ids = events.map((e) => e.event.id);
  expect(new Set(ids).size).toBe(ids.length); // no due time fired twice
  expect(ids.filter((id) => id.startsWith('burst:')).length).toBe(ONE_SHOT);
  // Each firing is announced once on the system bus, under the fired event's id.
  const announced = stored.filter((e) => e.event.type === 'dev.fuze.timer.fired').map((e) => e.event.id);
  expect(announced.sort()).toEqual([...ids].sort());

  const counts = await db.database.db.execute(
    sql`select key, fire_count::int as fire_count from timers where key like 'tick:%'`,
  );
  const rows = (Array.isArray(counts) ? counts : (counts as { rows: unknown[] }).rows) as Array<{
    key: string;
    fire_count: number;
  }>;
  for (const { key, fire_count } of rows) {
    const dues = events
      .filter((e) => e.event.id.startsWith(`${key}@`))
      .map((e) => Date.parse(e.event.time!))
      .sort((a, b) => a - b);
    // One event per due time, none missing: an unbroken one-second sequence, as recorded.
    expect(dues.length).toBe(fire_count);
    for (let i = 1; i < dues.length; i++) expect(dues[i]! - dues[i - 1]!).toBe(1_000);
  }
  const burst = await db.database.db.execute(
    sql`select count(*)::int as n from timers where key like 'burst:%' and fire_count = 1`,
  );
  expect(((Array.isArray(burst) ? burst : (burst as { rows: unknown[] }).rows)[0] as { n: number }).n).toBe(
    ONE_SHOT,
  );
});
