// `npm run bench -- timer-puts [--seconds=5] [--runs=3]` (also `npm run bench -- timers --puts`)
// Timer puts per second through the admin API of a real `fuze serve --services admin` on real
// Postgres: single `PUT /v1/timers/:key` (16 in flight) against batched `PUT /v1/timers` (1,000
// timers a request, 2 in flight). Every put creates a new timer due in a year. Goal: batched
// puts >= 5,000/s (issue 22).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { closedLoop, medianOf } from './measure.js';
import { freePort, startBenchNatsServer } from './nats-server.js';
import { Report } from './report.js';

const fuzeBin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const databaseUrl = process.env.FUZE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const batchSize = 1000;

export async function run(args: string[]): Promise<void> {
  const option = (name: string, fallback: number): number =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
  const timing = { warmupMs: 1_000, durationMs: option('seconds', 5) * 1000, runs: option('runs', 3) };

  const nats = await startBenchNatsServer();
  const dbName = `fuze_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'fuze-bench-timer-puts-'));
  const port = await freePort();
  const adminUrl = `http://127.0.0.1:${port}`;
  const fuze = spawnAdmin(
    {
      FUZE_NATS_URL: nats.url,
      FUZE_DATABASE_URL: url.toString(),
      FUZE_DATA_DIR: dataDir,
      FUZE_ADMIN_PORT: String(port),
      FUZE_GATEWAY_PORT: '0',
      FUZE_METRICS_PORT: '0',
      FUZE_LOG_LEVEL: 'warn',
    },
    adminUrl,
  );
  try {
    await fuze.started;
    console.log(
      `${cpus().length} cores shared by Postgres, nats-server, one fuze admin process and this one; ` +
        `${timing.runs} runs of ${timing.durationMs / 1000} s after a warm-up, median shown.`,
    );
    let next = 0;
    const timer = () => ({
      key: `bench:${next++}`,
      event: { type: 'com.example.bench.timer', source: '/bench', data: { n: next } },
      at: '2031-01-01T00:00:00Z',
    });
    const put = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${adminUrl}${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`PUT ${path}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const report = new Report();
    const single = await medianOf(timing, (durationMs) =>
      closedLoop({
        concurrency: 16,
        durationMs,
        op: async () => {
          const { key, ...body } = timer();
          await put(`/v1/timers/${encodeURIComponent(key)}`, body);
          return 1;
        },
      }),
    );
    report.add('single', 'PUT /v1/timers/:key, 16 in flight', single, 'timers/s');
    const batched = await medianOf(timing, (durationMs) =>
      closedLoop({
        concurrency: 2,
        durationMs,
        op: async () => {
          await put('/v1/timers', { timers: Array.from({ length: batchSize }, timer) });
          return batchSize;
        },
      }),
    );
    const goal = batched.perSecond >= 5_000 ? 'met' : 'MISSED';
    report.add(
      'batched',
      `PUT /v1/timers, ${batchSize} a request, 2 in flight`,
      batched,
      'timers/s',
      `   goal >= 5,000/s: ${goal}`,
    );
    report.ratio('batched', 'single');
  } finally {
    await fuze.stop();
    await nats.stop();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function spawnAdmin(
  env: Record<string, string>,
  adminUrl: string,
): { started: Promise<void>; stop(): Promise<void> } {
  const child: ChildProcess = spawn(process.execPath, [fuzeBin, 'serve', '--services', 'admin'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  // Ready once the admin API answers /readyz (NATS and Postgres reachable).
  const started = (async () => {
    for (;;) {
      if (gone) throw new Error(`fuze serve exited:\n${output.slice(-2000)}`);
      const ready = await fetch(`${adminUrl}/readyz`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    started,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
