import { describe, expect, test } from 'vitest';
import { RecentSet } from '../src/recent-set.js';

describe('RecentSet', () => {
  test('remembers the last `capacity` entries, oldest forgotten first', () => {
    const set = new RecentSet<number>(3);
    for (const n of [1, 2, 3, 2, 4]) set.add(n);
    expect([1, 2, 3, 4].map((n) => set.has(n))).toEqual([false, true, true, true]);
    set.add(5);
    expect([2, 3, 4, 5].map((n) => set.has(n))).toEqual([false, true, true, true]);
  });
});
