// `npm run bench -- processors [--events=20000] [--keys=1000] [--partitions=16] [--restore-keys=100000] [--bytes=200]`
// Stateful processors (issue 20, ADR 0008) against the stateless consumer, in the same run:
// - events/s of a processor doing one `get` and one `set` per event (a commit before each ack)
//   against a `createConsumer` on the same partitions and the same pre-published deliveries,
//   three alternating rounds, median (goal: at least 0.6x);
// - how long a processor takes to restore `restore-keys` states of `bytes` bytes when it gains
//   all their partitions (goal: 3 s or less), and the heap those states take.
import { ensureTopology, JetStreamPublisher, openStateBucket, stateKey } from '@fuze/bus';
import { createLogger, type DeliveryEnvelope, encodeDeliveryMessage, loadConfig } from '@fuze/core';
import { createConsumer, createProcessor } from '@fuze/sdk';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type BenchNatsServer, startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

let prefixes = 0;
async function provision(nc: NatsConnection): Promise<string> {
  const prefix = `BENCHPROC${++prefixes}`;
  const config = loadConfig({ FUZE_STREAM_PREFIX: prefix });
  await ensureTopology(await jetstreamManager(nc), config.streams, createLogger('silent'));
  return prefix;
}

function tick(target: string, key: string, n: number): DeliveryEnvelope {
  const event = {
    specversion: '1.0',
    id: `${key}-${n}`,
    source: '/bench/processors',
    type: 'com.example.tick',
    datacontenttype: 'application/json',
    data: { symbol: key, n, price: 100 + (n % 50) },
  };
  const { data: _data, ...attributes } = event;
  return {
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
    body: new TextEncoder().encode(JSON.stringify(event)),
    contentType: 'application/cloudevents+json',
    bus: 'default',
    rule: 'bench',
    target,
    partitionKey: key,
    acceptedAt: Date.now(),
  };
}

async function publishTicks(
  nc: NatsConnection,
  prefix: string,
  target: string,
  events: number,
  keys: number,
  partitions: number,
) {
  const publisher = new JetStreamPublisher(nc);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < events; i++) {
    pending.push(
      publisher.publish(
        encodeDeliveryMessage(prefix, tick(target, `K${i % keys}`, Math.floor(i / keys) + 1), partitions),
      ),
    );
    if (pending.length >= 1_000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await publisher.close();
}

/** Handles `events` pre-published deliveries with a consumer or a processor: events/s, CPU µs per event. */
async function rate(
  kind: 'consumer' | 'processor',
  nats: BenchNatsServer,
  nc: NatsConnection,
  options: { events: number; keys: number; partitions: number },
) {
  const prefix = await provision(nc);
  await publishTicks(nc, prefix, 'bench', options.events, options.keys, options.partitions);
  let handled = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const count = () => {
    handled += 1;
    if (handled === options.events) done();
  };
  const common = {
    target: 'bench',
    natsUrl: nats.url,
    streamPrefix: prefix,
    partitions: options.partitions,
  };
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const serverBefore = nats.cpuMicros();
  const running =
    kind === 'consumer'
      ? await createConsumer(common).handle<{ price: number }>((event) => {
          if (typeof event.data?.price === 'number') count();
        })
      : await createProcessor<{ prices: number[] }>(common).handle<{ price: number }>((event, ctx) => {
          const prices = [...(ctx.state.get()?.prices ?? []), event.data!.price].slice(-10);
          ctx.state.set({ prices });
          count();
        });
  await finished;
  const perSecond = (options.events * 1000) / (performance.now() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPerEvent = {
    app: (cpu.user + cpu.system) / options.events,
    server: (nats.cpuMicros() - serverBefore) / options.events,
  };
  await running.close();
  return { perSecond, cpuPerEvent };
}

export async function run(args: string[]): Promise<void> {
  const events = numberOption(args, 'events', 20_000);
  const keys = numberOption(args, 'keys', 1_000);
  const partitions = numberOption(args, 'partitions', 16);
  const restoreKeys = numberOption(args, 'restore-keys', 100_000);
  const bytes = numberOption(args, 'bytes', 200);
  const nats = await startBenchNatsServer();
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  try {
    console.log(
      `${fmt(events)} events over ${fmt(keys)} keys, ${partitions} partitions, one process; JetStream on ${nats.store}`,
    );
    const consumerRates: number[] = [];
    const processorRates: number[] = [];
    const cpu = { consumer: { app: 0, server: 0 }, processor: { app: 0, server: 0 } };
    for (let round = 1; round <= 3; round++) {
      const first = round % 2 === 1 ? 'consumer' : 'processor';
      for (const kind of [first, first === 'consumer' ? 'processor' : 'consumer'] as const) {
        const r = await rate(kind, nats, nc, { events, keys, partitions });
        (kind === 'consumer' ? consumerRates : processorRates).push(r.perSecond);
        cpu[kind] = r.cpuPerEvent;
      }
      console.log(
        `round ${round}: consumer ${fmt(consumerRates.at(-1)!)}/s, processor (get + set) ${fmt(processorRates.at(-1)!)}/s; ` +
          `CPU per event (this process / nats-server): consumer ${cpu.consumer.app.toFixed(0)} / ${cpu.consumer.server.toFixed(0)} µs, ` +
          `processor ${cpu.processor.app.toFixed(0)} / ${cpu.processor.server.toFixed(0)} µs`,
      );
    }
    const ratios = processorRates.map((r, i) => r / consumerRates[i]!);
    console.log(
      `median: consumer ${fmt(median(consumerRates))}/s, processor ${fmt(median(processorRates))}/s, ` +
        `ratio ${median(ratios).toFixed(2)}x per round (goal >= 0.6x)`,
    );

    // Restore: the states a process finds when it gains every partition of a processor.
    const prefix = await provision(nc);
    const kv = await openStateBucket(nc, prefix, 'restore');
    const value = JSON.stringify({
      seq: 1,
      state: {
        prices: Array.from(
          { length: Math.max(1, Math.floor((bytes - 20) / 7)) },
          (_, i) => 100 + (i % 9) + 0.25,
        ),
      },
    });
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < restoreKeys; i++) {
      const key = `K${i}`;
      pending.push(kv.put(stateKey(i % partitions, key), value));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const restores: number[] = [];
    let heapPerKey = 0;
    for (let round = 0; round < 3; round++) {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      let assigned = 0;
      let allAssigned: () => void = () => {};
      const restored = new Promise<void>((resolve) => {
        allAssigned = resolve;
      });
      const start = performance.now();
      const processor = await createProcessor({
        target: 'restore',
        natsUrl: nats.url,
        streamPrefix: prefix,
        partitions,
        onAssigned: () => {
          assigned += 1;
          if (assigned === partitions) allAssigned();
        },
      }).handle(() => {});
      await restored;
      restores.push(performance.now() - start);
      gc();
      const { keys: held } = processor.stats();
      if (held !== restoreKeys) throw new Error(`restored ${held} of ${restoreKeys} keys`);
      if (round === 0) heapPerKey = (process.memoryUsage().heapUsed - heapBefore) / held;
      await processor.close();
    }
    console.log(
      `\nrestore ${fmt(restoreKeys)} keys of ${value.length} bytes (a process gaining all ${partitions} partitions, ` +
        `from handle() to the last onAssigned): ${restores.map((ms) => `${fmt(ms)} ms`).join(', ')}; ` +
        `median ${fmt(median(restores))} ms (goal <= 3,000 ms)`,
    );
    console.log(
      `heap held per restored key: ${heapPerKey.toFixed(0)} bytes (${((heapPerKey * 100_000) / 1e6).toFixed(1)} MB per 100,000 keys)` +
        (globalThis.gc ? '' : ' (approximate: run node with --expose-gc)'),
    );
  } finally {
    await nc.close();
    await nats.stop();
  }
}
