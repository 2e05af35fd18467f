import { JetStreamPublisher, openStateBucket, stateBucketName, stateKey } from '@fuze/bus';
import { partitionFor } from '@fuze/core';
import {
  deliveryEnvelope,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  type ScriptProcess,
  spawnScript,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectTo } from './stream-fixture.js';

// Stateful processors in real processes, killed (SIGKILL), paused past their lease (SIGSTOP),
// joining and leaving, while ticks flow: the moving average per symbol of issue 20. Every
// average a worker reports must be the true one over the last `window` prices of its symbol (a
// worker that took a symbol over with an empty or stale window would report a wrong one), and
// every symbol's stored window must end as the last `window` prices, each applied once, in order.

const worker = new URL('./fixtures/average-worker.ts', import.meta.url).pathname;
const window = 10;
const leaseTtlMs = 1_500;

let server: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;
const workers: ScriptProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  publisher = new JetStreamPublisher(nc);
});
afterAll(async () => {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await publisher?.close();
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/** Tick n of symbol s: a price no two ticks of a symbol share, so a wrong window shows. */
const priceOf = (symbolIndex: number, n: number) => 100 + symbolIndex * 1_000 + n * n;

interface Scenario {
  prefix: string;
  symbols: string[];
  partitions: number;
  /** Ticks published so far per symbol (all symbols alike). */
  published: number;
  /** The scenario's worker processes, dead or alive. */
  workers: ScriptProcess[];
}

/** A fresh stream prefix with `symbols` symbols over `partitions` partitions, nothing published yet. */
async function newScenario(symbols: string[], partitions: number): Promise<Scenario> {
  return { prefix: await provisionStreams(nc, 'PRC'), symbols, partitions, published: 0, workers: [] };
}

const symbolsNamed = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** Every report true, every stored window the last prices (the first 10 problems of each, if any). */
async function expectTrueWindows(scenario: Scenario): Promise<void> {
  expect(wrongReports(scenario, reportsOf(scenario.workers)).slice(0, 10)).toEqual([]);
  expect((await wrongStoredWindows(scenario)).slice(0, 10)).toEqual([]);
}

async function startWorker(scenario: Scenario, delayMs = 2): Promise<ScriptProcess> {
  const started = spawnScript(worker, {
    NATS_URL: server.url,
    PREFIX: scenario.prefix,
    TARGET: 'averages',
    PARTITIONS: String(scenario.partitions),
    WINDOW: String(window),
    DELAY_MS: String(delayMs),
    LEASE_TTL_MS: String(leaseTtlMs),
  });
  workers.push(started);
  scenario.workers.push(started);
  await started.waitForLine((line) => line === 'ready');
  return started;
}

async function publishTicks(scenario: Scenario, ticks: number): Promise<void> {
  const envelopes = [];
  for (let n = scenario.published + 1; n <= scenario.published + ticks; n++)
    for (const [i, symbol] of scenario.symbols.entries())
      envelopes.push(
        deliveryEnvelope({
          target: 'averages',
          key: symbol,
          n,
          event: { data: { symbol, n, price: priceOf(i, n) } },
        }),
      );
  scenario.published += ticks;
  await publishDeliveries(publisher, scenario.prefix, scenario.partitions, envelopes);
}

interface Report {
  symbol: string;
  n: number;
  avg: number;
  count: number;
}

const reportsOf = (workers: ScriptProcess[]): Report[] =>
  workers.flatMap((w) =>
    w.lines.filter((l) => l.startsWith('{"symbol"')).map((l) => JSON.parse(l) as Report),
  );

/** Waits until every published tick was reported by some worker. */
async function allReported(scenario: Scenario, from: ScriptProcess[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    () => {
      const seen = new Set(reportsOf(from).map((r) => `${r.symbol}#${r.n}`));
      return scenario.symbols.every((s) => {
        for (let n = 1; n <= scenario.published; n++) if (!seen.has(`${s}#${n}`)) return false;
        return true;
      });
    },
    { timeoutMs, message: `every tick up to ${scenario.published} reported` },
  );
}

/** Reports whose average or count is not the truth over the symbol's last `window` prices. */
function wrongReports(scenario: Scenario, reports: Report[]): string[] {
  const wrong: string[] = [];
  for (const r of reports) {
    const i = scenario.symbols.indexOf(r.symbol);
    const prices = [];
    for (let n = Math.max(1, r.n - window + 1); n <= r.n; n++) prices.push(priceOf(i, n));
    const truth = prices.reduce((a, b) => a + b, 0) / prices.length;
    if (r.count !== prices.length || Math.abs(r.avg - truth) > 1e-9)
      wrong.push(`${r.symbol} tick ${r.n}: ${r.avg} over ${r.count}, truth ${truth} over ${prices.length}`);
  }
  return wrong;
}

/** Symbols whose stored window is not their last `window` prices, in order. */
async function wrongStoredWindows(scenario: Scenario): Promise<string[]> {
  const kv = await openStateBucket(nc, scenario.prefix, 'averages');
  const wrong: string[] = [];
  for (const [i, symbol] of scenario.symbols.entries()) {
    const entry = await kv.get(stateKey(partitionFor(symbol, scenario.partitions), symbol));
    const stored =
      entry?.operation === 'PUT' ? entry.json<{ state: { prices: number[] } }>().state.prices : [];
    const truth = [];
    for (let n = Math.max(1, scenario.published - window + 1); n <= scenario.published; n++)
      truth.push(priceOf(i, n));
    if (JSON.stringify(stored) !== JSON.stringify(truth))
      wrong.push(`${symbol}: stored ${JSON.stringify(stored)}, truth ${JSON.stringify(truth)}`);
  }
  return wrong;
}

const ownedBy = (w: ScriptProcess) => {
  const owned = new Set<number>();
  for (const line of w.lines) {
    if (line.startsWith('{"assigned"')) owned.add(JSON.parse(line).assigned);
    if (line.startsWith('{"revoked"')) owned.delete(JSON.parse(line).revoked);
  }
  return owned;
};

test('two worker processes: one SIGKILLed mid-window, restarted, takes its symbols back, SIGKILLed again: every average is the true one', async () => {
  const scenario = await newScenario(symbolsNamed('SYM', 12), 8);
  const survivor = await startWorker(scenario);
  let victim = await startWorker(scenario);
  await waitFor(() => ownedBy(victim).size > 0 && ownedBy(survivor).size > 0, {
    message: 'both own partitions',
  });
  await publishTicks(scenario, 15);
  await allReported(scenario, scenario.workers);
  // Mid-window: the victim is killed while a wave of its symbols' ticks is being handled.
  const before = reportsOf([victim]).length;
  await publishTicks(scenario, 15);
  await waitFor(() => reportsOf([victim]).length > before + 5, { message: 'the victim handling the wave' });
  victim.child.kill('SIGKILL');
  await victim.exited;
  await allReported(scenario, scenario.workers);
  // Back again: it takes its share back (with the survivor's windows), and is killed again.
  victim = await startWorker(scenario);
  await waitFor(() => ownedBy(victim).size === scenario.partitions / 2, {
    message: 'the restarted worker takes its share',
  });
  const again = reportsOf([victim]).length;
  await publishTicks(scenario, 15);
  await waitFor(() => reportsOf([victim]).length > again + 5, {
    message: 'the restarted victim handling the wave',
  });
  victim.child.kill('SIGKILL');
  await victim.exited;
  await publishTicks(scenario, 15);
  await allReported(scenario, scenario.workers);
  const reports = reportsOf(scenario.workers);
  await expectTrueWindows(scenario);
  console.info(
    `processors, SIGKILL twice: ${reports.length} reports of ${scenario.published * scenario.symbols.length} ticks, all true`,
  );
});

test('a worker SIGSTOPped past its lease while handling, then SIGCONTed: its late commits are refused, every window stays true', async () => {
  const scenario = await newScenario(symbolsNamed('SYM', 12), 8);
  const other = await startWorker(scenario, 20);
  const paused = await startWorker(scenario, 20);
  await waitFor(() => ownedBy(paused).size === scenario.partitions / 2, {
    message: 'the paused worker owns its share',
  });
  await publishTicks(scenario, 10);
  await allReported(scenario, scenario.workers);
  const before = reportsOf([paused]).length;
  await publishTicks(scenario, 20);
  await waitFor(() => reportsOf([paused]).length > before + 3, {
    message: 'the paused worker handling the wave',
  });
  // Frozen mid-handler (each takes 20 ms): the other worker takes its partitions meanwhile.
  paused.child.kill('SIGSTOP');
  const pausedAt = reportsOf([paused]).length;
  await waitFor(() => ownedBy(other).size === scenario.partitions, {
    timeoutMs: 30_000,
    message: 'the other worker takes every partition',
  });
  await publishTicks(scenario, 10);
  await allReported(scenario, scenario.workers);
  paused.child.kill('SIGCONT');
  // Back: it finds its fence closed, commits and acks nothing, hands over, then rejoins. Then
  // the other worker leaves, so every key's window comes from the store: a late commit that got
  // through would show in the next averages.
  await waitFor(() => ownedBy(paused).size === scenario.partitions / 2, {
    timeoutMs: 30_000,
    message: 'the resumed worker takes a share again',
  });
  other.child.kill('SIGTERM');
  await other.exited;
  await waitFor(() => ownedBy(paused).size === scenario.partitions, {
    timeoutMs: 30_000,
    message: 'the resumed worker takes every partition',
  });
  await publishTicks(scenario, 5);
  await allReported(scenario, scenario.workers);
  const reports = reportsOf(scenario.workers);
  await expectTrueWindows(scenario);
  console.info(
    `processors, SIGSTOP past the lease: ${reportsOf([paused]).length - pausedAt} reports by the paused worker after SIGCONT, ${reports.length} reports of ${scenario.published * scenario.symbols.length} ticks, all true`,
  );
});

test('1,000 keys over 16 partitions, 3 worker processes joining and leaving (SIGTERM, SIGKILL): every key ends as the fold of its ticks, in order', async () => {
  const scenario = await newScenario(symbolsNamed('K', 1_000), 16);
  const first = await startWorker(scenario, 0);
  await publishTicks(scenario, 3);
  const second = await startWorker(scenario, 0);
  await publishTicks(scenario, 3);
  const third = await startWorker(scenario, 0);
  await waitFor(() => ownedBy(third).size > 0, { message: 'the third worker owns partitions' });
  first.child.kill('SIGTERM'); // leaves: hands its partitions over
  await publishTicks(scenario, 2);
  await first.exited;
  second.child.kill('SIGKILL'); // dies: its partitions move after its lease expires
  await publishTicks(scenario, 2);
  await allReported(scenario, scenario.workers, 120_000);
  // 10 ticks per key fit the window: the stored window is every tick, each once, in order.
  await expectTrueWindows(scenario);
});

test('a worker killed between its state commit and the ack: the next owner acks the redelivery without running the handler', async () => {
  const scenario = await newScenario(['ONLY'], 1);
  const first = await startWorker(scenario, 0);
  const second = await startWorker(scenario, 0);
  await waitFor(() => ownedBy(first).size + ownedBy(second).size === 1, {
    message: 'one owner of the partition',
  });
  await publishTicks(scenario, 3);
  await allReported(scenario, scenario.workers);
  // Freeze both workers the moment a commit of the next tick is on the wire, before its sender
  // can read the store's answer and ack; check JetStream still waits for that ack. The owner is
  // the one that reported the tick (a handler prints before its commit), whoever holds the lease
  // by then; kill it and let the other go on.
  const bucket = stateBucketName(scenario.prefix, 'averages');
  const jsm = await jetstreamManager(nc);
  const consumer = `${scenario.prefix}_DLV_averages_0`;
  const freeze = (signal: 'SIGSTOP' | 'SIGCONT') => {
    for (const w of [first, second]) w.child.kill(signal);
  };
  let between = false;
  for (let attempt = 0; attempt < 20 && !between; attempt++) {
    const committed = new Promise<void>((resolve) => {
      nc.subscribe(`$KV.${bucket}.>`, {
        max: 1,
        callback: () => {
          freeze('SIGSTOP');
          resolve();
        },
      });
    });
    await publishTicks(scenario, 1);
    await committed;
    between = (await jsm.consumers.info(`${scenario.prefix}_DELIVERY`, consumer)).num_ack_pending === 1;
    if (!between) {
      freeze('SIGCONT');
      await allReported(scenario, scenario.workers);
    }
  }
  expect(between, 'a worker frozen between its commit and its ack').toBe(true);
  const caught = scenario.published;
  const reportedCaught = (w: ScriptProcess) => reportsOf([w]).some((r) => r.n === caught);
  await waitFor(() => reportedCaught(first) || reportedCaught(second), { message: 'the tick reported' });
  const owner = reportedCaught(first) ? first : second;
  const survivor = owner === first ? second : first;
  owner.child.kill('SIGKILL');
  await owner.exited;
  survivor.child.kill('SIGCONT');
  const survivorBefore = reportsOf([survivor]).length;
  await publishTicks(scenario, 2);
  await allReported(scenario, scenario.workers);
  // The tick the killed owner committed: reported by it (its handler ran), never by the survivor.
  expect(reportsOf([survivor]).filter((r) => r.n === caught)).toEqual([]);
  expect(
    reportsOf([survivor])
      .slice(survivorBefore)
      .map((r) => r.n),
  ).toEqual([caught + 1, caught + 2]);
  await expectTrueWindows(scenario);
});

test('nats-server killed (kill -9) and restarted under two worker processes: every window stays true', async () => {
  const scenario = await newScenario(symbolsNamed('SYM', 12), 8);
  const first = await startWorker(scenario, 2);
  const second = await startWorker(scenario, 2);
  await waitFor(() => ownedBy(first).size === 4 && ownedBy(second).size === 4, {
    message: 'both own a share',
  });
  await publishTicks(scenario, 10);
  const before = reportsOf(scenario.workers).length;
  await publishTicks(scenario, 10);
  await waitFor(() => reportsOf(scenario.workers).length > before + 20, {
    message: 'the second wave under way',
  });
  await server.kill();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await server.restart();
  await publishTicks(scenario, 10);
  await allReported(scenario, scenario.workers, 120_000);
  await expectTrueWindows(scenario);
});
