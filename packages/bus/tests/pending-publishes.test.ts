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

  test('tokens past 2^32 still map to their own entries', () => {
    const pending = new PendingPublishes<{ token: number }>(4);
    const high = entry(2 ** 40 + 7);
    pending.add(high);
    expect(pending.get(2 ** 40 + 7)).toBe(high);
    expect(pending.get(7)).toBeUndefined();
  });
});
