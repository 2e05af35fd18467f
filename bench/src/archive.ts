// `npm run bench -- archive [--events=20000] [--runs=3]`
// Archive replay (POST /v1/archive/replays) beside the router's live routing of the same events
// through the same rules, each in its own `fuze serve` process on the same NATS and Postgres:
// - live: `events` events are published (SDK) while no router runs, then `fuze serve --services
//   router` routes the backlog;
// - archive: `fuze serve --services admin` replays the window of those events.
// Both rates are read the same way, from the DELIVERY stream's message count: deliveries per
// second from the first delivery seen to the last. Goal: archive >= 0.5x live (median of runs).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamNames } from '@fuze/core';
import { createPublisher } from '@fuze/sdk';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { startFuzeServe, stopChild } from './fuze-serve.js';
import { freePort, startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';
import { format, median } from './report.js';
import { sampleInput } from './sample-event.js';

const prefix = 'ARCHB';
const databaseUrl = process.env.FUZE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Ten rules on the bus, each event matching one (by its customer's tier), one ordered target each. */
function rules(): string {
  return Array.from(
    { length: 10 },
    (_, i) => `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: tier-${i}, bus: shop }
spec:
  pattern: { type: [${sampleInput.type}], data: { tier: [${i}] } }
  targets:
    - name: app-${i}
      consumer: {}
      ordering: { partitionKey: "$.data.customerId", partitions: 16 }
`,
  ).join('---\n');
}

export async function run(args: string[]): Promise<void> {
  const events = numberOption(args, 'events', 20_000);
  const runs = numberOption(args, 'runs', 3);
  const nats = await startBenchNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'fuze-bench-archive-'));
  writeFileSync(join(dir, 'rules.yaml'), rules());
  const dbName = `fuze_bench_${randomBytes(4).toString('hex')}`;
  const pg = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await pg.unsafe(`create database ${dbName}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${dbName}`;
  const adminPort = await freePort();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const env = { FUZE_DATABASE_URL: url.toString() };
  const serve = (services: string, sub: string) =>
    startFuzeServe({
      natsUrl: nats.url,
      prefix,
      dir: join(dir, sub),
      services,
      rules: join(dir, 'rules.yaml'),
      env: { ...env, FUZE_ADMIN_PORT: String(adminPort), FUZE_GATEWAY_PORT: '0' },
    });
  const admin = await serve('admin', 'admin');
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  const deliveries = async () => (await jsm.streams.info(streamNames(prefix).delivery)).state.messages;
  const sdk = createPublisher({ natsUrl: nats.url, streamPrefix: prefix, bus: 'shop' });
  console.log(
    `${cpus().length} cores shared by nats-server, Postgres, fuze serve --services admin, fuze serve --services router ` +
      `(live runs only) and this process. ${events} events a run, 10 rules, medians of ${runs} runs.`,
  );
  const live: number[] = [];
  const archive: number[] = [];
  let n = 0;
  try {
    for (let r = 0; r < runs; r++) {
      const from = new Date(Date.now() - 1).toISOString();
      const published: Array<Promise<unknown>> = [];
      for (let i = 0; i < events; i++) {
        const k = n++;
        published.push(
          sdk.publish({
            ...sampleInput,
            id: `archive-bench-${k}`,
            data: { ...sampleInput.data, customerId: `c-${k % 500}`, tier: k % 10 },
          }),
        );
        if (published.length >= 1_000) await Promise.all(published.splice(0));
      }
      await Promise.all(published);
      await sleep(5);
      const to = new Date().toISOString();

      let base = await deliveries();
      const router = await serve('router', `router-${r}`);
      live.push(await deliveryRate(deliveries, base, events));
      await stopChild(router);

      base = await deliveries();
      const res = await fetch(`${adminUrl}/v1/archive/replays`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ bus: 'shop', from, to }),
      });
      if (res.status !== 202)
        throw new Error(`POST /v1/archive/replays answered ${res.status}: ${await res.text()}`);
      archive.push(await deliveryRate(deliveries, base, events));
      console.log(`  run ${r + 1}: live ${format(live.at(-1)!)}/s, archive ${format(archive.at(-1)!)}/s`);
    }
    const ratio = median(archive) / median(live);
    console.log(
      `router, live routing of a backlog: ${format(median(live)).padStart(7)} deliveries/s  (runs: ${live.map(format).join(', ')})`,
    );
    console.log(
      `archive replay of the same window: ${format(median(archive)).padStart(7)} deliveries/s  (runs: ${archive.map(format).join(', ')})`,
    );
    console.log(
      `ratio ${ratio.toFixed(2)}x  archive / live   goal >= 0.5x: ${ratio >= 0.5 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await sdk.close();
    await nc.close();
    await stopChild(admin);
    await nats.stop();
    await pg.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await pg.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deliveries per second, from the first new delivery seen to the `expected`-th. */
async function deliveryRate(count: () => Promise<number>, base: number, expected: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  let first: { at: number; count: number } | undefined;
  for (;;) {
    const now = performance.now();
    const c = (await count()) - base;
    if (first === undefined && c > 0) first = { at: now, count: c };
    if (c >= expected && first) {
      const seconds = (now - first.at) / 1000;
      return seconds > 0 ? (c - first.count) / seconds : Number.POSITIVE_INFINITY;
    }
    if (Date.now() > deadline) throw new Error(`only ${c} of ${expected} deliveries within 5 minutes`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
