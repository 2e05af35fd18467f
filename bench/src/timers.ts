// `npm run bench -- timers [--pending=1000000] [--due=50000] [--window=10] [--instances=1]`
// (`--puts`: timer puts per second instead, single and batched: timer-puts.ts)
// Timers: with `--pending` timers stored, `--due` of them due within the same `--window` seconds.
// Phase 1 (window): fire lag (stored in the events stream minus due) p50/p99/max and the rate kept.
// Phase 2 (burst): `--due` timers due at the same instant: how fast a backlog drains (timers/s).
// Database work per firing: the scheduler's own count of statements and rows (it logs them when it
// stops), and Postgres's count of transactions and tuples for the database (pg_stat_database).
// Over 300 lines: one benchmark read top to bottom (set-up, load, report), as its printout is.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@fuze/bus';
import { createLogger, streamNames } from '@fuze/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import postgres from 'postgres';
import { startBenchNatsServer } from './nats-server.js';

const prefix = 'BENCH';
const fuzeBin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const adminUrl = process.env.FUZE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface SchedulerProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<SchedulerStats>;
}

/** What a scheduler instance logs when it stops (services/scheduler/src/scheduler-stats.ts). */
interface SchedulerStats {
  claims: number;
  emptyClaims: number;
  peeks: number;
  statements: number;
  rowsClaimed: number;
  rowsUpdated: number;
  eventsPublished: number;
}

interface DbCounters {
  xact: number;
  returned: number;
  fetched: number;
  updated: number;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--puts')) return (await import('./timer-puts.js')).run(args);
  const option = (name: string, fallback: number): number =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
  const pending = option('pending', 1_000_000);
  const due = option('due', 50_000);
  const windowMs = option('window', 10) * 1000;
  const instances = option('instances', 1);

  const nats = await startBenchNatsServer();
  const dbName = `fuze_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  const dataDir = mkdtempSync(join(tmpdir(), 'fuze-bench-timers-'));
  const logger = createLogger('warn', { component: 'bench' });
  const nc = await connectNats({ url: nats.url, name: 'fuze-bench-timers', logger });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const events = streamNames(prefix).events;
  const env = {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: url.toString(),
    FUZE_STREAM_PREFIX: prefix,
    FUZE_DATA_DIR: dataDir,
    FUZE_LOG_LEVEL: process.env.FUZE_BENCH_LOG_LEVEL ?? 'info',
  };
  const startSchedulers = async () => {
    const started = Array.from({ length: instances }, () => spawnScheduler(env));
    await Promise.all(started.map((s) => waitForOutput(s, 'fuze is running', 60_000)));
    return started;
  };
  try {
    console.log(
      `${cpus().length} cores shared by Postgres, nats-server (file storage), ${instances} scheduler ` +
        `process(es) and this one. ${pending.toLocaleString()} pending timers; ${due.toLocaleString()} due ` +
        `within ${windowMs / 1000} s (phase 1), then ${due.toLocaleString()} due at one instant (phase 2).`,
    );
    // The first start applies the migrations and creates the streams.
    let schedulers = await startSchedulers();

    const far = pending - due;
    let t = performance.now();
    await sql.unsafe(`
      insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at)
      select 'bench:far:' || g, 'default', 'api',
             '{"type":"com.example.bench.timer","source":"/bench","data":{"n":1}}'::jsonb,
             '{"kind":"rate","rateMs":86400000}'::jsonb, 'fire-once', 'scheduled',
             now() + interval '1 hour' + g * interval '2 seconds'
      from generate_series(1, ${far}) g`);
    await sql.unsafe('analyze timers');
    console.log(
      `stored ${far.toLocaleString()} far timers in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    // Phase 1: `due` timers spread evenly over the window, starting 4 s from now.
    const phase1 = await measurePhase({
      sql,
      js,
      jsm,
      events,
      expected: due,
      insert: () =>
        sql.unsafe(`
          insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at)
          select 'bench:window:' || g, 'default', 'api',
                 '{"type":"com.example.bench.timer","source":"/bench","data":{"n":1}}'::jsonb,
                 jsonb_build_object('kind', 'at', 'at', now()), 'fire-once', 'scheduled',
                 now() + interval '4 seconds' + (g * ${windowMs / due}) * interval '1 millisecond'
          from generate_series(1, ${due}) g`),
      stop: async () => Promise.all(schedulers.map((s) => s.stop())),
    });
    report('phase 1: due within the window', phase1, due);

    await jsm.streams.purge(events);
    schedulers = await startSchedulers();
    t = performance.now();
    const phase2 = await measurePhase({
      sql,
      js,
      jsm,
      events,
      expected: due,
      insert: () =>
        sql.unsafe(`
          insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at)
          select 'bench:burst:' || g, 'default', 'api',
                 '{"type":"com.example.bench.timer","source":"/bench","data":{"n":1}}'::jsonb,
                 jsonb_build_object('kind', 'at', 'at', now()), 'fire-once', 'scheduled',
                 date_trunc('second', now()) + interval '4 seconds'
          from generate_series(1, ${due}) g`),
      stop: async () => Promise.all(schedulers.map((s) => s.stop())),
    });
    report('phase 2: all due at one instant (backlog drain)', phase2, due);
  } finally {
    await nc.close();
    await sql.end();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface PhaseResult {
  lags: number[];
  firstDue: number;
  lastStored: number;
  stats: SchedulerStats;
  db: DbCounters;
}

async function measurePhase(options: {
  sql: postgres.Sql;
  js: ReturnType<typeof jetstream>;
  jsm: Awaited<ReturnType<typeof jetstreamManager>>;
  events: string;
  expected: number;
  insert: () => Promise<unknown>;
  stop: () => Promise<SchedulerStats[]>;
}): Promise<PhaseResult> {
  const before = await dbCounters(options.sql);
  await options.insert();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { state } = await options.jsm.streams.info(options.events);
    if (state.messages >= options.expected) break;
    if (Date.now() > deadline)
      throw new Error(`only ${state.messages} of ${options.expected} timers fired in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const all = await options.stop();
  const after = await dbCounters(options.sql);
  const lags: number[] = [];
  let firstDue = Number.POSITIVE_INFINITY;
  let lastStored = 0;
  const consumer = await options.js.consumers.get(options.events);
  const messages = await consumer.consume({ max_messages: 5_000 });
  for await (const m of messages) {
    const { time } = m.json<{ time: string }>();
    const dueMs = Date.parse(time);
    const storedMs = Number(m.info.timestampNanos) / 1e6;
    lags.push(storedMs - dueMs);
    firstDue = Math.min(firstDue, dueMs);
    lastStored = Math.max(lastStored, storedMs);
    if (m.info.pending === 0) break;
  }
  await messages.close();
  const stats = all.reduce((sum, s) => {
    for (const key of Object.keys(sum) as Array<keyof SchedulerStats>) sum[key] += s[key] ?? 0;
    return sum;
  }, emptyStats());
  return {
    lags,
    firstDue,
    lastStored,
    stats,
    db: {
      xact: after.xact - before.xact,
      returned: after.returned - before.returned,
      fetched: after.fetched - before.fetched,
      updated: after.updated - before.updated,
    },
  };
}

function report(title: string, r: PhaseResult, expected: number): void {
  const sorted = [...r.lags].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const seconds = (r.lastStored - r.firstDue) / 1000;
  const fired = r.stats.eventsPublished;
  const per = (n: number) => (fired > 0 ? (n / fired).toFixed(3) : '-');
  console.log(`\n${title}`);
  console.log(`  events in the stream     ${r.lags.length.toLocaleString()} of ${expected.toLocaleString()}`);
  console.log(
    `  firing throughput        ${Math.round(r.lags.length / seconds).toLocaleString()} timers/s ` +
      `(first due -> last stored: ${seconds.toFixed(2)} s)`,
  );
  console.log(
    `  fire lag (stored - due)  p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms`,
  );
  console.log(
    `  scheduler, per firing    ${per(r.stats.statements)} statements (BEGIN/COMMIT included), ` +
      `${per(r.stats.rowsClaimed)} rows claimed, ${per(r.stats.rowsUpdated)} rows updated; ` +
      `${r.stats.claims} claims (${r.stats.emptyClaims} empty), ${r.stats.peeks} range queries`,
  );
  console.log(
    `  Postgres, per firing     ${per(r.db.xact)} transactions, ${per(r.db.fetched)} tuples fetched, ` +
      `${per(r.db.returned)} tuples returned, ${per(r.db.updated)} tuples updated (pg_stat_database, all sessions)`,
  );
}

async function dbCounters(sql: postgres.Sql): Promise<DbCounters> {
  // Statistics are flushed by each backend at most once a second; force ours and read fresh.
  await sql`select pg_stat_clear_snapshot()`;
  await new Promise((r) => setTimeout(r, 1_100));
  const [row] = await sql<Array<{ xact: string; returned: string; fetched: string; updated: string }>>`
    select xact_commit + xact_rollback as xact, tup_returned as returned, tup_fetched as fetched,
           tup_updated as updated
    from pg_stat_database where datname = current_database()`;
  return {
    xact: Number(row!.xact),
    returned: Number(row!.returned),
    fetched: Number(row!.fetched),
    updated: Number(row!.updated),
  };
}

function emptyStats(): SchedulerStats {
  return {
    claims: 0,
    emptyClaims: 0,
    peeks: 0,
    statements: 0,
    rowsClaimed: 0,
    rowsUpdated: 0,
    eventsPublished: 0,
  };
}

function spawnScheduler(env: Record<string, string>): SchedulerProcess {
  const child = spawn(process.execPath, [fuzeBin, 'serve', '--services', 'scheduler'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const keep = process.env.FUZE_BENCH_KEEP_LOGS;
      if (keep) writeFileSync(join(keep, `scheduler-${child.pid}.log`), output);
      const line = output.split('\n').find((l) => l.includes('"scheduler stopped"'));
      if (!line) throw new Error(`the scheduler did not report its stats:\n${output.slice(-2000)}`);
      return (JSON.parse(line) as { stats: SchedulerStats }).stats;
    },
  };
}

async function waitForOutput(p: SchedulerProcess, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.output().includes(text)) {
    if (p.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the scheduler did not start:\n${p.output().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
