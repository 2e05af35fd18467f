import { describe, expect, test } from 'vitest';
import { PendingPublishes } from '../src/pending-publishes.js';

const entry = (token: number) => ({ token });

describe('PendingPublishes', () => {
  test('finds, counts and removes entries by token', () => {
    const pending = new PendingPublishes<{ token: number }>(4);
    const entries = [0, 1, 2, 3].map(entry);
    for (const e of entries) pending.add(e);
    expect(pending.size).toBe(4);
    expect(pending.get(2)).toBe(entries[2]);
    expect(pending.delete(entries[2]!)).toBe(true);
    expect(pending.delete(entries[2]!)).toBe(false);
    expect(pending.get(2)).toBeUndefined();
    expect(pending.get(Number.NaN)).toBeUndefined();
    expect([...pending].map((e) => e.token)).toEqual([0, 1, 3]);
  });

  test('an entry still pending when its slot comes round again is kept, found and removed', () => {
    const pending = new PendingPublishes<{ token: number }>(4); // a ring of 64 slots
    const stuck = entry(5);
    pending.add(stuck);
    for (let token = 6; token < 6 + 200; token++) {
      const e = entry(token);
      pending.add(e);
      expect(pending.get(token)).toBe(e);
      pending.delete(e);
    }
    // Token 69 and 133 took the stuck entry's slot; it is still there.
    expect(pending.size).toBe(1);
    expect(pending.get(5)).toBe(stuck);
    expect([...pending]).toEqual([stuck]);
    const sameSlot = entry(5 + 64 * 4);
    pending.add(sameSlot);
    expect(pending.get(5 + 64 * 4)).toBe(sameSlot);
    expect(pending.get(5)).toBe(stuck);
    expect(pending.delete(stuck)).toBe(true);
    expect(pending.delete(sameSlot)).toBe(true);
    expect(pending.size).toBe(0);
    expect([...pending]).toEqual([]);
  });

  test('iterates oldest first, also once the tokens have wrapped round the ring', () => {
    const pending = new PendingPublishes<{ token: number }>(4); // a ring of 64 slots
    const stuck = entry(3);
    pending.add(stuck);
    for (let token = 4; token < 100; token++) pending.add(entry(token));
    for (let token = 4; token < 90; token++) pending.delete(pending.get(token)!);
    // 3 became a straggler when 67 took its slot; 90..99 sit in slots 26..35, 3's old slot lies between.
    expect([...pending].map((e) => e.token)).toEqual([3, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    for (let token = 100; token < 140; token++) pending.add(entry(token)); // slots 36..63, then 0..11
    expect([...pending].map((e) => e.token)).toEqual([3, ...Array.from({ length: 50 }, (_, i) => 90 + i)]);
  });

  test('an unbounded in-flight limit gets a bounded ring, and entries past it are still kept', () => {
    for (const expected of [Number.POSITIVE_INFINITY, 1e9]) {
      const pending = new PendingPublishes<{ token: number }>(expected);
      const entries = Array.from({ length: 70_000 }, (_, token) => entry(token));
      for (const e of entries) pending.add(e);
      expect(pending.size).toBe(70_000);
      expect(pending.get(3)).toBe(entries[3]);
      expect(pending.get(69_999)).toBe(entries[69_999]);
      const order = [...pending].map((e) => e.token);
      expect(order).toEqual(entries.map((e) => e.token));
      // Deleting while iterating (as the sweep does) visits every entry once.
      let visited = 0;
      for (const e of pending) {
        visited++;
        pending.delete(e);
      }
      expect(visited).toBe(70_000);
      expect(pending.size).toBe(0);
    }
  });

  test('tokens past 2^32 still map to their own entries', () => {
    const pending = new PendingPublishes<{ token: number }>(4);
    const high = entry(2 ** 40 + 7);
    pending.add(high);
    expect(pending.get(2 ** 40 + 7)).toBe(high);
    expect(pending.get(7)).toBeUndefined();
  });
});
