import { describe, expect, test } from 'vitest';
import { composeHandler, concurrencyLimit, KeyedQueue } from '../src/index.js';
import { testDelivery } from './pipeline-fixture.js';

/** A promise the test settles by hand. */
function gate() {
  let open: (value: boolean) => void = () => {};
  const promise = new Promise<boolean>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('KeyedQueue', () => {
  test('one item at a time per key, in order; keys run side by side', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    const queue = new KeyedQueue<string>((item) => {
      started.push(item);
      const g = gate();
      gates.set(item, g);
      return g.promise;
    });
    for (const item of ['a1', 'b1', 'a2', 'b2', 'a3']) queue.push(item[0]!, item);
    expect(started).toEqual(['a1', 'b1']);
    gates.get('a1')!.open(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates.get('a2')!.open(true);
    gates.get('b1')!.open(true);
    await new Promise((r) => setImmediate(r));
    expect(started.filter((i) => i.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(started.filter((i) => i.startsWith('b'))).toEqual(['b1', 'b2']);
    gates.get('b2')!.open(true);
    gates.get('a3')!.open(true);
    await queue.idle();
    expect(queue.activeKeys).toBe(0);
  });

  test('an item that is not settled stops its key: the items behind it are handed back unstarted', async () => {
    const abandoned: string[] = [];
    const started: string[] = [];
    const queue = new KeyedQueue<string>(
      async (item) => {
        started.push(item);
        return item !== 'a1';
      },
      (items) => abandoned.push(...items),
    );
    for (const item of ['a1', 'a2', 'a3', 'b1']) queue.push(item[0]!, item);
    await queue.idle();
    expect(started).toEqual(['a1', 'b1']);
    expect(abandoned).toEqual(['a2', 'a3']);
  });

  test('clear() returns what has not started and lets running items finish', async () => {
    const g = gate();
    const queue = new KeyedQueue<string>(() => g.promise);
    for (const item of ['a1', 'a2', 'b1', 'b2']) queue.push(item[0]!, item);
    expect(queue.clear().sort()).toEqual(['a2', 'b2']);
    g.open(true);
    await queue.idle();
  });
});

describe('concurrencyLimit', () => {
  test('at most n attempts at once; a freed slot goes to the next waiter', async () => {
    let running = 0;
    let peak = 0;
    const handler = composeHandler(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
    }, concurrencyLimit(3));
    await Promise.all(Array.from({ length: 20 }, () => handler(testDelivery())));
    expect(peak).toBe(3);
  });

  test('a waiter whose worker stops leaves the queue', async () => {
    const g = gate();
    const handler = composeHandler(async () => void (await g.promise), concurrencyLimit(1));
    const first = handler(testDelivery());
    const stopping = new AbortController();
    const second = handler(testDelivery({}, { stopping, signal: new AbortController() }));
    stopping.abort();
    await expect(second).rejects.toThrow(/abandoned/);
    g.open(true);
    await first;
  });
});
