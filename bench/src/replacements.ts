// `npm run bench -- replacements [--ms=400] [--runs=5]`
// The hand-written replacements of ADR 0005, each beside the library code it stands in for, in
// one process: nanoseconds per operation (median of --runs timed loops of --ms each). An event
// costs the gateway ~50 µs of CPU and a routed event ~120 µs over all processes (README), so the
// gain per event is set against that.
//
// The ring and the header block are internals of @fuze/bus, not part of its
// public entry; they are loaded from its build (packages/bus/dist), which `npm run bench` makes.
import { SyncContextManager } from '@fuze/telemetry';
import { headers, Match } from '@nats-io/transport-node';
import { type ContextManager, context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

const busDist = new URL('../../packages/bus/dist/', import.meta.url);
const { headerBlock } = (await import(new URL('header-block.js', busDist).href)) as {
  headerBlock(msgId: string, headers: Record<string, string>): { encode(): Uint8Array };
};
const { PendingPublishes } = (await import(new URL('pending-publishes.js', busDist).href)) as {
  PendingPublishes: new (
    expected: number,
  ) => { add(e: { token: number }): void; get(t: number): unknown; delete(e: { token: number }): boolean };
};

interface Pair {
  name: string;
  ours: () => void;
  library: () => void;
  /** What the library line runs. */
  libraryName: string;
}

let sink: unknown;

function nsPerOp(fn: () => void, ms: number): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 1_000; i++) fn();
    ops += 1_000;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / ops;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function pairs(): Pair[] {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  let n = 0;
  const inFlight = 4_000;
  const ring = new PendingPublishes(inFlight);
  const map = new Map<number, { token: number }>();
  let ringToken = 0;
  let mapToken = 0;
  for (; ringToken < inFlight; ringToken++) ring.add({ token: ringToken });
  for (; mapToken < inFlight; mapToken++) map.set(mapToken, { token: mapToken });

  return [
    {
      name: 'header block (Nats-Msg-Id + traceparent)',
      ours: () => {
        sink = headerBlock(`id-${n++}`, { traceparent }).encode();
      },
      library: () => {
        const h = headers();
        h.set('Nats-Msg-Id', `id-${n++}`, Match.Exact);
        h.set('traceparent', traceparent, Match.Exact);
        sink = (h as unknown as { encode(): Uint8Array }).encode();
      },
      libraryName: 'nats.js headers() + set + encode',
    },
    {
      name: 'pending publishes ring (add, get, delete; 4,000 in flight)',
      ours: () => {
        const e = { token: ringToken++ };
        ring.add(e);
        const old = ring.get(ringToken - inFlight - 1) as { token: number };
        ring.delete(old);
      },
      library: () => {
        const e = { token: mapToken++ };
        map.set(e.token, e);
        const old = map.get(mapToken - inFlight - 1)!;
        map.delete(old.token);
      },
      libraryName: 'Map',
    },
  ];
}

/** A request's worth of promise work (~20 awaits) inside one active context. */
async function contextWork(manager: ContextManager, runs: number): Promise<number> {
  context.disable();
  context.setGlobalContextManager(manager.enable());
  const key = createContextKey('bench');
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    await context.with(ROOT_CONTEXT.setValue(key, i), async () => {
      for (let a = 0; a < 20; a++) await Promise.resolve(a);
    });
  }
  const ns = Number(process.hrtime.bigint() - start) / runs;
  manager.disable();
  context.disable();
  return ns;
}

export async function run(args: string[]): Promise<void> {
  const option = (name: string, fallback: number) =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  const ms = option('ms', 400);
  const runs = option('runs', 5);
  console.log(`ns per operation, median of ${runs} runs of ${ms} ms each, the two lines alternating`);
  for (const pair of pairs()) {
    const ours: number[] = [];
    const library: number[] = [];
    for (let r = 0; r < runs; r++) {
      ours.push(nsPerOp(pair.ours, ms));
      library.push(nsPerOp(pair.library, ms));
    }
    const o = median(ours);
    const l = median(library);
    console.log(
      `${pair.name.padEnd(58)} ours ${o.toFixed(0).padStart(6)} ns   ${pair.libraryName}: ${l.toFixed(0).padStart(6)} ns   saves ${((l - o) / 1000).toFixed(2)} µs per use`,
    );
  }
  const sync: number[] = [];
  const als: number[] = [];
  for (let r = 0; r < runs; r++) {
    sync.push(await contextWork(new SyncContextManager(), 20_000));
    als.push(await contextWork(new AsyncLocalStorageContextManager(), 20_000));
  }
  const s = median(sync);
  const a = median(als);
  console.log(
    `${'context manager (20 awaits in one context.with)'.padEnd(58)} ours ${s.toFixed(0).padStart(6)} ns   AsyncLocalStorage: ${a.toFixed(0).padStart(6)} ns   saves ${((a - s) / 1000).toFixed(2)} µs per use`,
  );
  void sink;
}
