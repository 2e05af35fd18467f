import { JetStreamPublisher, openStateBucket, stateKey } from '@fuze/bus';
import { partitionFor } from '@fuze/core';
import {
  deliveryEnvelope,
  freezeEventLoop,
  interleavedDeliveries,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createProcessor, type Processor, type ProcessorHandler } from '../src/index.js';
import { connectTo } from './stream-fixture.js';

let server: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;
const processors: Processor<unknown>[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  publisher = new JetStreamPublisher(nc);
});
afterAll(async () => {
  await Promise.all(processors.map((p) => p.close()));
  await publisher?.close();
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

const fast = { maxAttempts: 50, backoff: 'exponential', initialDelayMs: 5, maxDelayMs: 50 } as const;
const tuning = { leaseTtlMs: 1_500 };

/** Each key's state: the event numbers applied to it, in order (a fold anyone can check). */
type Applied = { ns: number[] };
type KeyEvent = { key: string; n: number };

const appendN: ProcessorHandler<Applied, KeyEvent> = (event, ctx) => {
  const applied = ctx.state.get() ?? { ns: [] };
  applied.ns.push(event.data!.n);
  ctx.state.set(applied);
};

function processorOf<S>(
  target: string,
  prefix: string,
  extra: Partial<Parameters<typeof createProcessor>[0]> = {},
) {
  const processor = createProcessor<S>({
    target,
    natsUrl: server.url,
    streamPrefix: prefix,
    retry: fast,
    tuning,
    partitions: 4,
    ...extra,
  });
  processors.push(processor as Processor<unknown>);
  return processor;
}

/** Every key's stored state, read from the processor's bucket as an operator would. */
async function storedStates(prefix: string, target: string, keys: string[], partitions = 4) {
  const kv = await openStateBucket(nc, prefix, target);
  const states = new Map<string, { seq: number; state?: Applied }>();
  for (const key of keys) {
    const entry = await kv.get(stateKey(partitionFor(key, partitions), key));
    if (entry?.operation === 'PUT') states.set(key, entry.json());
  }
  return states;
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('createProcessor', () => {
  test("each key's state folds its events once, in order, and is stored before the ack", async () => {
    const prefix = await provisionStreams(nc);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const held = new Map<string, number[]>();
    await processorOf<Applied>('folds', prefix).handle<KeyEvent>(async (event, ctx) => {
      await appendN(event, ctx);
      held.set(ctx.key!, ctx.state.get()!.ns);
    });
    await publishDeliveries(publisher, prefix, 4, interleavedDeliveries('folds', keys, 20));
    await waitFor(() => keys.every((k) => held.get(k)?.length === 20), { message: 'every event applied' });
    for (const key of keys) expect(held.get(key)).toEqual(upTo(20));
    const stored = await storedStates(prefix, 'folds', keys);
    for (const key of keys) expect(stored.get(key)?.state?.ns).toEqual(upTo(20));
  });

  test('an event the store already reflects (committed, then the ack was lost) is acked without running the handler', async () => {
    const prefix = await provisionStreams(nc);
    // Events k-1..3 take delivery stream sequences 1..3 (published one at a time).
    for (let n = 1; n <= 3; n++)
      await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'crashed', key: 'k', n })]);
    // What an owner killed between its commit of k-2 and the ack leaves behind.
    const kv = await openStateBucket(nc, prefix, 'crashed');
    await kv.put(stateKey(partitionFor('k', 4), 'k'), JSON.stringify({ seq: 2, state: { ns: [1, 2] } }));
    const handled: number[] = [];
    await processorOf<Applied>('crashed', prefix).handle<KeyEvent>(async (event, ctx) => {
      handled.push(event.data!.n);
      await appendN(event, ctx);
    });
    await waitFor(async () => (await storedStates(prefix, 'crashed', ['k'])).get('k')?.seq === 3, {
      message: 'k-3 committed',
    });
    expect(handled).toEqual([3]);
    expect((await storedStates(prefix, 'crashed', ['k'])).get('k')?.state?.ns).toEqual([1, 2, 3]);
  });

  test('a commit refused because another owner committed the key since is retried on the stored state', async () => {
    const prefix = await provisionStreams(nc);
    const seen: number[][] = [];
    const processor = processorOf<Applied>('contested', prefix);
    await processor.handle<KeyEvent>(async (event, ctx) => {
      seen.push([...(ctx.state.get()?.ns ?? [])]);
      await appendN(event, ctx);
    });
    await publishDeliveries(publisher, prefix, 4, [
      deliveryEnvelope({ target: 'contested', key: 'k', n: 1 }),
    ]);
    await waitFor(
      async () => (await storedStates(prefix, 'contested', ['k'])).get('k')?.state?.ns.length === 1,
    );
    // A late commit from an owner that lost the partition: not what this processor holds.
    const kv = await openStateBucket(nc, prefix, 'contested');
    await kv.put(stateKey(partitionFor('k', 4), 'k'), JSON.stringify({ seq: 1, state: { ns: [100] } }));
    await publishDeliveries(publisher, prefix, 4, [
      deliveryEnvelope({ target: 'contested', key: 'k', n: 2 }),
    ]);
    await waitFor(async () => (await storedStates(prefix, 'contested', ['k'])).get('k')?.seq === 2);
    expect((await storedStates(prefix, 'contested', ['k'])).get('k')?.state?.ns).toEqual([100, 2]);
    // k-2 ran on the state held here, its commit was refused, then it ran on the stored one.
    expect(seen).toEqual([[], [1], [100]]);
    expect(processor.stats()).toMatchObject({ conflicts: 1, commits: 2 });
  });

  test('partitions move between processors (join, leave) with their state: every fold complete and in order', async () => {
    const prefix = await provisionStreams(nc);
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const hooks: string[] = [];
    const first = processorOf<Applied>('moving', prefix, {
      onAssigned: (p) => void hooks.push(`first+${p}`),
      onRevoked: (p) => void hooks.push(`first-${p}`),
    });
    await first.handle<KeyEvent>(appendN);
    const batches = [1, 2, 3].map((batch) =>
      interleavedDeliveries('moving', keys, 30).filter((e) => {
        const n = Number(String(e.attributes.id).split('-')[1]);
        return n > (batch - 1) * 10 && n <= batch * 10;
      }),
    );
    const storedLengths = async (length: number) => {
      const stored = await storedStates(prefix, 'moving', keys);
      return keys.every((k) => stored.get(k)?.state?.ns.length === length);
    };
    await publishDeliveries(publisher, prefix, 4, batches[0]!);
    await waitFor(() => storedLengths(10), { message: 'batch 1 applied by the first processor' });
    const second = processorOf<Applied>('moving', prefix);
    await second.handle<KeyEvent>(appendN);
    await waitFor(() => second.stats().partitions.length === 2, {
      message: 'the second processor takes its share',
    });
    // It restores what the first committed for those partitions.
    await waitFor(() => second.stats().keys > 0, { message: 'the second processor restores its keys' });
    await publishDeliveries(publisher, prefix, 4, batches[1]!);
    await waitFor(() => storedLengths(20), { message: 'batch 2 applied by both' });
    await first.close();
    expect(hooks.filter((h) => h.startsWith('first+'))).toHaveLength(4);
    expect(hooks.filter((h) => h.startsWith('first-'))).toHaveLength(4);
    await waitFor(() => second.stats().partitions.length === 4, {
      message: 'the second processor takes all',
    });
    await publishDeliveries(publisher, prefix, 4, batches[2]!);
    await waitFor(() => storedLengths(30), { message: 'batch 3 applied by the second' });
    const stored = await storedStates(prefix, 'moving', keys);
    for (const key of keys) expect(stored.get(key)?.state?.ns).toEqual(upTo(30));
  });

  test('an owner paused past its lease commits nothing: the event is applied once, by the next attempt', async () => {
    const prefix = await provisionStreams(nc);
    let calls = 0;
    await processorOf<Applied>('paused', prefix).handle<KeyEvent>(async (event, ctx) => {
      calls += 1;
      // As a SIGSTOP or a long GC would: nothing of this process runs for longer than the fence allows.
      if (calls === 1) freezeEventLoop(tuning.leaseTtlMs);
      await appendN(event, ctx);
    });
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'paused', key: 'k', n: 1 })]);
    await waitFor(async () => (await storedStates(prefix, 'paused', ['k'])).get('k')?.seq === 1, {
      message: 'k-1 committed',
    });
    expect(calls).toBe(2);
    expect((await storedStates(prefix, 'paused', ['k'])).get('k')?.state?.ns).toEqual([1]);
  });

  test('a state that cannot be kept dead-letters its event at once; the key keeps its state and moves on', async () => {
    const prefix = await provisionStreams(nc);
    await processorOf<Applied | string>('limits', prefix).handle<KeyEvent>(async (event, ctx) => {
      if (event.id === 'big-2') ctx.state.set('x'.repeat(256 * 1024));
      else if (event.id === 'big-3') ctx.state.set(undefined as unknown as string);
      else if (event.id === 'nokey-1') ctx.state.get();
      else await appendN(event, ctx as never);
    });
    await publishDeliveries(
      publisher,
      prefix,
      4,
      [1, 2, 3, 4].map((n) => deliveryEnvelope({ target: 'limits', key: 'big', n })),
    );
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'limits', n: 1 })]);
    const dead = await waitFor(
      async () => {
        const found = await readDeadLetters(nc, prefix);
        return found.length === 3 ? found : undefined;
      },
      { message: 'three dead letters' },
    );
    const byId = new Map(dead.map((r) => [r.attributes.id, r.failure]));
    expect(byId.get('big-2')).toMatchObject({ attempts: 1, retryable: false });
    expect(byId.get('big-2')?.message).toContain('over the limit of 262144');
    expect(byId.get('big-3')?.message).toContain('cannot be stored as JSON');
    expect(byId.get('nokey-1')?.message).toContain('has no partition key');
    expect([...byId.values()].every((failure) => failure.attempts === 1)).toBe(true);
    await waitFor(
      async () => (await storedStates(prefix, 'limits', ['big'])).get('big')?.state?.ns.length === 2,
    );
    expect((await storedStates(prefix, 'limits', ['big'])).get('big')?.state?.ns).toEqual([1, 4]);
  });

  test("a key's timers fire back into the key under its state: set, moved and deleted with it, each fired once", async () => {
    const prefix = await provisionStreams(nc);
    const fired: Array<{ name: string; key: string; ns: number[] }> = [];
    type Flushed = Applied & { flushed?: number[] };
    await processorOf<Flushed>('timed', prefix).handle<KeyEvent>(async (event, ctx) => {
      const current = ctx.state.get() ?? { ns: [] };
      if (ctx.timer) {
        expect(event.type).toBe('fuze.processor.timer');
        expect(event.data).toMatchObject({ timer: ctx.timer.name, key: ctx.key });
        fired.push({ name: ctx.timer.name, key: ctx.key!, ns: current.ns });
        ctx.state.set({ ...current, flushed: current.ns });
        return;
      }
      const n = event.data!.n;
      current.ns.push(n);
      ctx.state.set(current);
      if (n === 1) ctx.timers.set('flush', { delay: '600ms' });
      if (n === 2) ctx.timers.set('cancelled', { delay: '400ms' });
      if (n === 3) ctx.timers.delete('cancelled');
      if (n === 3) ctx.timers.set('flush', { at: new Date(Date.now() + 800) }); // moved later
    });
    for (let n = 1; n <= 3; n++)
      await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'timed', key: 'k', n })]);
    await waitFor(() => fired.length > 0, { message: 'the flush timer fires' });
    await new Promise((r) => setTimeout(r, 1_000)); // time for a wrong second firing
    expect(fired).toEqual([{ name: 'flush', key: 'k', ns: [1, 2, 3] }]);
    const kv = await openStateBucket(nc, prefix, 'timed');
    const stored = (await kv.get(stateKey(partitionFor('k', 4), 'k')))?.json<{
      state: Flushed;
      timers?: object;
    }>();
    expect(stored?.state).toEqual({ ns: [1, 2, 3], flushed: [1, 2, 3] });
    expect(stored?.timers).toBeUndefined();
  });

  test('a timer moves with its key: set by a processor that leaves, fired by the next owner; a failed firing is retried', async () => {
    const prefix = await provisionStreams(nc);
    const first = processorOf<Applied>('handover', prefix);
    await first.handle<KeyEvent>(async (event, ctx) => {
      await appendN(event, ctx);
      ctx.timers.set('remind', { delay: '1500ms' });
    });
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'handover', key: 'k', n: 1 })]);
    await waitFor(async () => (await storedStates(prefix, 'handover', ['k'])).get('k')?.seq === 1);
    await first.close();
    const attempts: number[] = [];
    await processorOf<Applied & { reminded?: true }>('handover', prefix).handle<KeyEvent>(
      async (_event, ctx) => {
        if (!ctx.timer) return;
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('not yet');
        ctx.state.set({ ...ctx.state.get()!, reminded: true });
      },
    );
    await waitFor(
      async () =>
        ((await storedStates(prefix, 'handover', ['k'])).get('k')?.state as { reminded?: true } | undefined)
          ?.reminded === true,
      {
        message: 'the next owner fires the timer',
      },
    );
    expect(attempts).toEqual([1, 2]);
  });

  test('timers that cannot be kept dead-letter their event with what to give instead', async () => {
    const prefix = await provisionStreams(nc);
    await processorOf<Applied>('badtimers', prefix).handle<KeyEvent>(async (event, ctx) => {
      if (event.data!.n === 1) ctx.timers.set('no spaces', { delay: '1s' });
      if (event.data!.n === 2) ctx.timers.set('ok', { delay: 'soon' });
      if (event.data!.n === 3) ctx.timers.set('ok', { at: '2030-01-01T09:00:00' });
    });
    await publishDeliveries(
      publisher,
      prefix,
      4,
      [1, 2, 3].map((n) => deliveryEnvelope({ target: 'badtimers', key: 'k', n })),
    );
    const dead = await waitFor(
      async () => {
        const found = await readDeadLetters(nc, prefix);
        return found.length === 3 ? found : undefined;
      },
      { message: 'three dead letters' },
    );
    const messages = dead.map((r) => r.failure.message);
    expect(messages[0]).toContain('timer name "no spaces" is invalid');
    expect(messages[1]).toContain('delay "soon" is not a duration');
    expect(messages[2]).toContain('write RFC 3339 with a zone');
    expect(dead.every((r) => r.failure.attempts === 1)).toBe(true);
  });

  test('maxKeys: an event that would add a key beyond it is dead-lettered; held keys go on; bad options are all named', async () => {
    const prefix = await provisionStreams(nc);
    await processorOf<Applied>('bounded', prefix, { maxKeys: 2 }).handle<KeyEvent>(appendN);
    for (const key of ['a', 'b'])
      await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'bounded', key, n: 1 })]);
    await waitFor(async () => (await storedStates(prefix, 'bounded', ['a', 'b'])).size === 2);
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'bounded', key: 'c', n: 1 })]);
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'bounded', key: 'a', n: 2 })]);
    const [dead] = await waitFor(async () => {
      const found = await readDeadLetters(nc, prefix);
      return found.length > 0 ? found : undefined;
    });
    expect(dead?.attributes.id).toBe('c-1');
    expect(dead?.failure.message).toContain('this process holds 2 keys, its maxKeys is 2');
    await waitFor(
      async () => (await storedStates(prefix, 'bounded', ['a'])).get('a')?.state?.ns.length === 2,
    );
    expect((await storedStates(prefix, 'bounded', ['c'])).get('c')).toBeUndefined();

    let refused: unknown;
    try {
      createProcessor({ target: 'Bad Name', maxKeys: 0 });
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'FUZE_CONFIG_INVALID' });
    expect(String((refused as Error).message)).toMatch(/target "Bad Name" is invalid.*maxKeys=0 is invalid/);
  });
});
