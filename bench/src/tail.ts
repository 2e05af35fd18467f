// `npm run bench -- tail [--rate=1000] [--seconds=5] [--events=20000] [--runs=3]`
// The live tail (GET /v1/tail) of a real `fuze serve --services router,admin`:
// - latency: events published by the SDK at `rate`/s, time from the publish call to the tail
//   client reading the event (goal: p99 <= 100 ms at 1,000/s);
// - a stalled client: delivery throughput (SDK publish -> router -> SDK consumer) with a tail
//   client that never reads, against the same pipeline with no tail, alternated in the same run
//   (goal: >= 0.9x, "unchanged" on a machine whose runs move by more than 10%), and whether the
//   stalled client was dropped.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServerSentEvents } from '@fuze/core';
import { createConsumer, createPublisher } from '@fuze/sdk';
import { startFuzeServe, stopChild } from './fuze-serve.js';
import { freePort, startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';
import { format, median } from './report.js';
import { sampleInput } from './sample-event.js';

const prefix = 'TAILB';
const now = () => performance.timeOrigin + performance.now();

export async function run(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => numberOption(args, name, fallback);
  const rate = option('rate', 1_000);
  const seconds = option('seconds', 5);
  const events = option('events', 20_000);
  const runs = option('runs', 3);

  const nats = await startBenchNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'fuze-bench-tail-'));
  writeFileSync(
    join(dir, 'rules.yaml'),
    `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: tail-bench }
spec:
  pattern: { type: [${sampleInput.type}] }
  targets:
    - name: app
      consumer: {}
      ordering: { partitionKey: "$.data.customerId", partitions: 16 }
`,
  );
  const adminPort = await freePort();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const fuze = await startFuzeServe({
    natsUrl: nats.url,
    prefix,
    dir,
    services: 'router,admin',
    rules: join(dir, 'rules.yaml'),
    env: { FUZE_ADMIN_PORT: String(adminPort), FUZE_GATEWAY_PORT: '0' },
  });
  let received = 0;
  const consumer = await createConsumer({
    target: 'app',
    natsUrl: nats.url,
    streamPrefix: prefix,
    partitions: 16,
  }).handle(() => {
    received += 1;
  });
  const sdk = createPublisher({ natsUrl: nats.url, streamPrefix: prefix });
  let n = 0;
  const publish = () =>
    sdk.publish({
      ...sampleInput,
      data: { ...sampleInput.data, customerId: `c-${n++ % 200}`, sentAt: now() },
    });
  console.log(
    `${cpus().length} cores shared by nats-server, fuze serve --services router,admin and this process (SDK publisher, ` +
      `consumer and tail clients). Medians of ${runs} runs.`,
  );
  try {
    await throughput(publish, () => received, 2_000); // warm-up

    // Latency at the tail.
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let r = 0; r < runs; r++) {
      const latencies: number[] = [];
      const tail = await openTail(adminUrl, (data) => {
        const event = JSON.parse(data) as { data?: { sentAt?: number } };
        if (typeof event.data?.sentAt === 'number') latencies.push(now() - event.data.sentAt);
      });
      await paced(publish, rate, seconds);
      const total = rate * seconds;
      const deadline = Date.now() + 30_000;
      while (latencies.length < total && Date.now() < deadline) await sleep(10);
      tail.close();
      const sorted = latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      p50s.push(at(0.5));
      p99s.push(at(0.99));
      if (latencies.length < total)
        console.log(`  run ${r + 1}: the tail saw ${latencies.length} of ${total} events`);
    }
    const p99 = median(p99s);
    console.log(
      `tail latency at ${rate}/s, publish call to tail client: p50 ${median(p50s).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms ` +
        `(runs p99: ${p99s.map((v) => v.toFixed(1)).join(', ')} ms)   goal p99 <= 100 ms: ${p99 <= 100 ? 'met' : 'MISSED'}`,
    );

    // Delivery throughput with a stalled tail client, against none.
    const without: number[] = [];
    const stalledRates: number[] = [];
    let dropped = 0;
    for (let r = 0; r < runs; r++) {
      without.push(await throughput(publish, () => received, events));
      const stalled = await openStalled(adminUrl);
      stalledRates.push(await throughput(publish, () => received, events));
      if (await stalled.wasDropped()) dropped++;
    }
    const ratio = median(stalledRates) / median(without);
    console.log(
      `delivery, no tail:              ${format(median(without)).padStart(7)} events/s  (runs: ${without.map(format).join(', ')})`,
    );
    console.log(
      `delivery, a stalled tail client: ${format(median(stalledRates)).padStart(7)} events/s  (runs: ${stalledRates.map(format).join(', ')}); ` +
        `the stalled client was dropped in ${dropped} of ${runs} runs`,
    );
    console.log(
      `ratio ${ratio.toFixed(2)}x  with a stalled tail / without   goal >= 0.9x (unchanged within noise): ${ratio >= 0.9 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await consumer.close();
    await sdk.close();
    await stopChild(fuze);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A tail client that reads every event as it comes; `close()` disconnects it. */
async function openTail(adminUrl: string, onData: (data: string) => void): Promise<{ close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${adminUrl}/v1/tail?bus=default`, { signal: abort.signal });
  if (res.status !== 200) throw new Error(`GET /v1/tail answered ${res.status}: ${await res.text()}`);
  void (async () => {
    for await (const event of readServerSentEvents(res.body!))
      if (event.event === 'message') onData(event.data);
  })().catch(() => {});
  return { close: () => abort.abort() };
}

/** A tail client that never reads; `wasDropped()` then reads what it was sent and says if it ends in `dropped`. */
async function openStalled(adminUrl: string): Promise<{ wasDropped(): Promise<boolean> }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(`${adminUrl}/v1/tail?bus=default`, resolve);
    req.on('error', reject);
    req.end();
  });
  res.pause();
  return {
    async wasDropped() {
      let last = '';
      const timer = setTimeout(() => res.destroy(), 10_000);
      res.resume();
      try {
        for await (const event of readServerSentEvents(res)) last = event.event;
      } catch {
        // destroyed: not dropped within 10 s
      }
      clearTimeout(timer);
      return last === 'dropped';
    },
  };
}

async function throughput(
  publish: () => Promise<unknown>,
  received: () => number,
  count: number,
): Promise<number> {
  const target = received() + count;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < count) await publish();
  };
  await Promise.all(Array.from({ length: 2_000 }, worker));
  const deadline = Date.now() + 300_000;
  while (received() < target) {
    if (Date.now() > deadline) throw new Error('delivery stopped');
    await sleep(2);
  }
  return count / ((performance.now() - started) / 1_000);
}

async function paced(publish: () => Promise<unknown>, rate: number, seconds: number): Promise<void> {
  const total = rate * seconds;
  const started = performance.now();
  let sent = 0;
  const inFlight: Array<Promise<unknown>> = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1_000));
    for (; sent < due; sent++) inFlight.push(publish());
    await sleep(1);
  }
  await Promise.all(inFlight);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
