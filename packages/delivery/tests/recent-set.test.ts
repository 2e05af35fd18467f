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

  test('tells when an entry was added, the first time while it is remembered', () => {
    let now = 10;
    const set = new RecentSet<string>(2, () => now);
    set.add('a');
    now = 20;
    set.add('a');
    set.add('b');
    expect([set.addedAt('a'), set.addedAt('b'), set.addedAt('c')]).toEqual([10, 20, undefined]);
    set.add('c');
    expect(set.addedAt('a')).toBeUndefined();
  });
});
