// `npm run bench -- e2e [--events=20000] [--rate=2000] [--seconds=5] [--keys=200] [--runs=3] [--profile]`
// `--profile`: the router process writes a .cpuprofile to $TMPDIR/fuze-bench-profiles/ when it exits.
// End to end: SDK publish -> events stream -> router (its own process) -> 16-partition delivery
// -> SDK consumer, next to a raw JetStream two-hop pipeline measured in the same run (publish ->
// consume and republish with a msgID in its own process -> consume), same payloads.
// Over 300 lines: one benchmark read top to bottom (set-up, load, report), as its printout is.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JetStreamPublisher } from '@fuze/bus';
import { createConsumer, createPublisher } from '@fuze/sdk';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { startFuzeServe, stopChild } from './fuze-serve.js';
import { processCpuMicros, startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';
import { format, median } from './report.js';
import { sampleInput } from './sample-event.js';

const prefix = 'E2E';
const now = () => performance.timeOrigin + performance.now();

/** A pipeline under test: something to publish into and a count of what came out the far end. */
interface Pipeline {
  name: string;
  publish(i: number, sentAt: number): Promise<unknown>;
  received(): number;
  /** End-to-end latencies (ms) recorded since the last `resetLatencies()`. */
  latencies: number[];
  /** The middle hop's process, for its CPU time. */
  hopPid: number | undefined;
  close(): Promise<void>;
}

/** CPU time (µs) spent while a pipeline ran: nats-server, the middle hop, this process. */
interface CpuSpent {
  nats: number;
  hop: number;
  self: number;
}

export async function run(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) => numberOption(args, name, fallback);
  const events = option('events', 20_000);
  const rate = option('rate', 2_000);
  const seconds = option('seconds', 5);
  const keys = option('keys', 200);
  const runs = option('runs', 3);
  const profileDir = args.includes('--profile') ? join(tmpdir(), 'fuze-bench-profiles') : undefined;

  const nats = await startBenchNatsServer();
  console.log(
    `${cpus().length} cores shared by nats-server, the middle hop (router, or the raw republisher: a child process) ` +
      `and this process (SDK publisher and consumer). Throughput: ${events} events as fast as they go; latency: ` +
      `${rate}/s paced for ${seconds} s, publish call to handler; ${keys} keys. Medians of ${runs} runs, the two ` +
      'pipelines measured in turn so that load from elsewhere hits both alike.',
  );
  // The store's disk shows in the latency tail: TMPDIR=/dev/shm measures without it (bench/README.md).
  console.log(`nats-server store: ${nats.store}`);
  const pipelines: Pipeline[] = [];
  try {
    pipelines.push(
      await startRawPipeline(nats.url, keys),
      await startFuzePipeline(nats.url, keys, profileDir),
    );
    for (const pipeline of pipelines) await throughput(pipeline, 1_000); // warm-up: leases, consumers, JIT
    const rates = pipelines.map(() => [] as number[]);
    const cpu = pipelines.map(() => ({ nats: 0, hop: 0, self: 0, events: 0 }));
    const p50s = pipelines.map(() => [] as number[]);
    const p99s = pipelines.map(() => [] as number[]);
    for (let r = 0; r < runs; r++)
      for (const [i, pipeline] of pipelines.entries()) {
        const before = cpuNow(nats.cpuMicros(), pipeline);
        rates[i]!.push(await throughput(pipeline, events));
        const after = cpuNow(nats.cpuMicros(), pipeline);
        cpu[i]!.nats += after.nats - before.nats;
        cpu[i]!.hop += after.hop - before.hop;
        cpu[i]!.self += after.self - before.self;
        cpu[i]!.events += events;
      }
    for (let r = 0; r < runs; r++)
      for (const [i, pipeline] of pipelines.entries()) {
        const { p50, p99 } = await pacedLatency(pipeline, rate, seconds);
        p50s[i]!.push(p50);
        p99s[i]!.push(p99);
      }
    for (const [i, pipeline] of pipelines.entries()) {
      console.log(
        `${pipeline.name.padEnd(60)} ${format(median(rates[i]!)).padStart(7)} events/s   ` +
          `p50 ${median(p50s[i]!).toFixed(2)} ms   p99 ${median(p99s[i]!).toFixed(2)} ms   ` +
          `(runs: ${rates[i]!.map(format).join(', ')} events/s; p99 ${p99s[i]!.map((v) => v.toFixed(1)).join(', ')} ms)`,
      );
      const spent = cpu[i]!;
      const per = (micros: number) => (micros / spent.events).toFixed(1);
      console.log(
        `${''.padEnd(60)} CPU µs/event at full speed: nats-server ${per(spent.nats)}, middle hop ${per(spent.hop)}, ` +
          `publisher+consumer ${per(spent.self)}, total ${per(spent.nats + spent.hop + spent.self)}`,
      );
    }
    const ratio = median(rates[1]!) / median(rates[0]!);
    const p99 = median(p99s[1]!);
    console.log(
      `ratio ${ratio.toFixed(2)}x  Fuze end to end / raw two hops   goal >= 0.5x: ${ratio >= 0.5 ? 'met' : 'MISSED'}`,
    );
    console.log(
      `Fuze p99 at ${rate}/s: ${p99.toFixed(2)} ms   goal <= 10 ms: ${p99 <= 10 ? 'met' : 'MISSED'}`,
    );
  } finally {
    for (const pipeline of pipelines) await pipeline.close();
    await nats.stop();
  }
}

function cpuNow(natsMicros: number, pipeline: Pipeline): CpuSpent {
  const self = process.cpuUsage();
  return { nats: natsMicros, hop: processCpuMicros(pipeline.hopPid), self: self.user + self.system };
}

/** Publishes `count` events, up to 2,000 in flight, and times until the last one comes out. */
async function throughput(pipeline: Pipeline, count: number): Promise<number> {
  const target = pipeline.received() + count;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) await pipeline.publish(next++, now());
  };
  await Promise.all(Array.from({ length: 2_000 }, worker));
  await until(() => pipeline.received() >= target);
  return count / ((performance.now() - started) / 1_000);
}

/** Publishes at a steady `rate` for `seconds`; latency is publish call to handler, in one process. */
async function pacedLatency(pipeline: Pipeline, rate: number, seconds: number) {
  pipeline.latencies.length = 0;
  const total = rate * seconds;
  const target = pipeline.received() + total;
  const started = performance.now();
  let sent = 0;
  const inFlight: Array<Promise<unknown>> = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1_000));
    for (; sent < due; sent++) inFlight.push(pipeline.publish(sent, now()));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  await until(() => pipeline.received() >= target);
  const sorted = [...pipeline.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

async function until(done: () => boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the pipeline stopped delivering');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function eventData(i: number, keys: number, sentAt: number) {
  return { ...sampleInput.data, customerId: `c-${i % keys}`, sentAt };
}

let unique = 0;

/** Raw baseline: JetStream publish -> republisher process (consume, publish with msgID, ack) -> consume. */
async function startRawPipeline(natsUrl: string, keys: number): Promise<Pipeline> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RAW_IN', subjects: ['raw.in'] });
  await jsm.streams.add({ name: 'RAW_OUT', subjects: ['raw.out'] });
  const hop = await forkRepublisher(natsUrl);
  const publisher = new JetStreamPublisher(nc);
  const latencies: number[] = [];
  let received = 0;
  const info = await jsm.consumers.add('RAW_OUT', {
    durable_name: 'RAW_SINK',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 20_000,
    ack_wait: nanos(30_000),
  });
  const messages = await jetstream(nc)
    .consumers.getConsumerFromInfo(info)
    .consume({
      max_messages: 1_000,
      callback: (msg) => {
        const event = msg.json<{ data: { sentAt: number } }>();
        latencies.push(now() - event.data.sentAt);
        received += 1;
        msg.ack();
      },
    });
  const encoder = new TextEncoder();
  return {
    name: 'raw JetStream, two hops (publish, republish, consume)',
    publish(i, sentAt) {
      const id = `raw-${unique++}`;
      const event = {
        ...sampleInput,
        id,
        specversion: '1.0',
        time: new Date().toISOString(),
        data: eventData(i, keys, sentAt),
      };
      return publisher.publish({
        subject: 'raw.in',
        payload: encoder.encode(JSON.stringify(event)),
        msgId: id,
      });
    },
    received: () => received,
    latencies,
    hopPid: hop.pid,
    async close() {
      messages.stop();
      await publisher.close();
      await stopChild(hop);
      await nc.close();
    },
  };
}

/** Fuze: SDK publisher -> router (a `fuze serve --services router` process) -> SDK consumer. */
async function startFuzePipeline(natsUrl: string, keys: number, profileDir?: string): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'fuze-bench-e2e-'));
  writeFileSync(
    join(dir, 'rules.yaml'),
    `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: e2e }
spec:
  pattern: { type: [${sampleInput.type}] }
  targets:
    - name: app
      consumer: {}
      ordering: { partitionKey: "$.data.customerId", partitions: 16 }
`,
  );
  const router = await startFuzeServe({
    natsUrl,
    prefix,
    dir,
    services: 'router',
    rules: join(dir, 'rules.yaml'),
    ...(profileDir ? { profileDir } : {}),
  });
  const latencies: number[] = [];
  let received = 0;
  const consumer = await createConsumer({
    target: 'app',
    natsUrl,
    streamPrefix: prefix,
    partitions: 16,
  }).handle((event) => {
    latencies.push(now() - (event.data as { sentAt: number }).sentAt);
    received += 1;
  });
  const sdk = createPublisher({ natsUrl, streamPrefix: prefix });
  return {
    name: 'Fuze: SDK publish -> router -> 16 partitions -> SDK consumer',
    publish: (i, sentAt) => sdk.publish({ ...sampleInput, data: eventData(i, keys, sentAt) }),
    received: () => received,
    latencies,
    hopPid: router.pid,
    async close() {
      await consumer.close();
      await sdk.close();
      await stopChild(router);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function forkRepublisher(natsUrl: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), [republisherRole, natsUrl], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the republisher exited with ${code}`)));
  });
  return child;
}

const republisherRole = '--e2e-republisher';

/** The raw middle hop: what a minimal router does, without matching: consume, republish (msgID), ack. */
async function republisher(natsUrl: string): Promise<void> {
  const nc: NatsConnection = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const publisher = new JetStreamPublisher(nc);
  const info = await jsm.consumers.add('RAW_IN', {
    durable_name: 'RAW_HOP',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 20_000,
    ack_wait: nanos(30_000),
  });
  const messages = await jetstream(nc)
    .consumers.getConsumerFromInfo(info)
    .consume({
      max_messages: 1_000,
      callback: (msg) => {
        void publisher
          .publish({ subject: 'raw.out', payload: msg.data, msgId: `out-${msg.seq}` })
          .then(() => msg.ack());
      },
    });
  process.send?.('ready');
  process.once('SIGTERM', () => {
    messages.stop();
    void publisher.close().then(() => nc.close().then(() => process.exit(0)));
  });
}

if (process.argv[2] === republisherRole) void republisher(process.argv[3]!);
