// `npm run bench -- state-store [--keys=100000] [--bytes=200] [--partitions=16] [--sequential=5000]`
// What a stateful processor's per-key state would cost kept in a NATS KV bucket (issue 20's store
// decision, ADR 0008): keys `<partition>.<key>`, each value the key's state and the delivery
// sequence it reflects, one bucket per processor. Prints, against a raw JetStream publish of the
// same bytes measured in the same run:
// - commits one at a time (a handler awaiting each before its ack), with and without
//   compare-and-swap on the key's revision (the fencing a stale owner's late commit would hit);
// - commits pipelined (the partitions of one process in parallel, each key its own write);
// - restoring every key (a process gaining all partitions: one watch per partition, latest value
//   per key), and the heap the restored states take.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startBenchNatsServer } from './nats-server.js';
import { numberOption } from './options.js';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** A state of about `bytes` bytes of JSON: a moving window of prices, and what it reflects. */
function stateBytes(key: number, seq: number, bytes: number): Uint8Array {
  const window: number[] = [];
  let text = '';
  while (text.length < bytes) {
    window.push(Math.round((100 + ((key * 7 + window.length) % 50)) * 100) / 100);
    text = JSON.stringify({ seq, window });
  }
  return new TextEncoder().encode(text);
}

/** Runs `write(i)` for i in [0, count) with at most `inFlight` unfinished; returns writes per second. */
async function writeRate(count: number, inFlight: number, write: (i: number) => Promise<unknown>) {
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) await write(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (count * 1000) / (performance.now() - start);
}

async function restoreAll(kv: KV, partitions: number): Promise<{ ms: number; states: Map<string, unknown> }> {
  const states = new Map<string, unknown>();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      const watch = await kv.watch({ key: `${partition}.>` });
      for await (const entry of watch) {
        if (entry.operation === 'PUT') states.set(entry.key, entry.json());
        if (entry.delta === 0) break;
      }
      watch.stop();
    }),
  );
  return { ms: performance.now() - start, states };
}

export async function run(args: string[]): Promise<void> {
  const keys = numberOption(args, 'keys', 100_000);
  const bytes = numberOption(args, 'bytes', 200);
  const partitions = numberOption(args, 'partitions', 16);
  const sequential = Math.min(keys, numberOption(args, 'sequential', 5_000));
  const nats = await startBenchNatsServer();
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: nats.url, noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'BASELINE', subjects: ['baseline.>'] });
    const kv = await new Kvm(nc).create('state_bench', { history: 1 });
    const keyOf = (i: number) => `${i % partitions}.k${i}`;
    const payloads = Array.from({ length: keys }, (_, i) => stateBytes(i, 1, bytes));
    console.log(
      `${fmt(keys)} keys over ${partitions} partitions, ${payloads[0]?.length} bytes of state each; ` +
        `JetStream on ${nats.store}`,
    );

    const rows: [string, number, number][] = [];
    const baselineOne = await writeRate(sequential, 1, (i) =>
      js.publish(`baseline.${keyOf(i)}`, payloads[i] as Uint8Array),
    );
    // The revision each commit returns is what the key's next commit compares against.
    const revisions = new Map<string, number>();
    const putOne = await writeRate(sequential, 1, async (i) => {
      revisions.set(keyOf(i), await kv.put(keyOf(i), payloads[i] as Uint8Array));
    });
    const casOne = await writeRate(sequential, 1, async (i) => {
      const key = keyOf(i);
      revisions.set(key, await kv.update(key, stateBytes(i, 2, bytes), revisions.get(key) as number));
    });
    rows.push(['one at a time: JetStream publish (baseline)', baselineOne, baselineOne]);
    rows.push(['one at a time: KV put', putOne, baselineOne]);
    rows.push(['one at a time: KV compare-and-swap', casOne, baselineOne]);

    const baselineMany = await writeRate(keys, 256, (i) =>
      js.publish(`baseline.${keyOf(i)}`, payloads[i] as Uint8Array),
    );
    const putMany = await writeRate(keys, 256, (i) => kv.put(keyOf(i), payloads[i] as Uint8Array));
    rows.push(['256 in flight: JetStream publish (baseline)', baselineMany, baselineMany]);
    rows.push(['256 in flight: KV put', putMany, baselineMany]);

    console.log(`\n${'commits'.padEnd(46)} ${'per second'.padStart(11)} ${'vs baseline'.padStart(12)}`);
    for (const [name, rate, base] of rows)
      console.log(
        `${name.padEnd(46)} ${fmt(rate).padStart(11)} ${`${(rate / base).toFixed(2)}x`.padStart(12)}`,
      );

    const restores: number[] = [];
    let heapPerKey = 0;
    for (let round = 0; round < 3; round++) {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const { ms, states } = await restoreAll(kv, partitions);
      gc();
      // The first round only: later rounds start with earlier restores not yet collected.
      if (round === 0) heapPerKey = (process.memoryUsage().heapUsed - heapBefore) / states.size;
      if (states.size !== keys) throw new Error(`restored ${states.size} of ${keys} keys`);
      restores.push(ms);
    }
    restores.sort((a, b) => a - b);
    console.log(
      `\nrestore all ${fmt(keys)} keys (${partitions} watches in parallel): ` +
        `${restores.map((ms) => `${fmt(ms)} ms`).join(', ')}; median ${fmt(restores[1] as number)} ms ` +
        `(${fmt((keys * 1000) / (restores[1] as number))} keys/s)`,
    );
    console.log(
      `heap held by the restored states: ${heapPerKey.toFixed(0)} bytes per key` +
        (globalThis.gc ? '' : ' (approximate: run node with --expose-gc)'),
    );
  } finally {
    await nc?.close();
    await nats.stop();
  }
}
