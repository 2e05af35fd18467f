import { seededRandom } from '@fuze/test/harness';
import { describe, expect, test } from 'vitest';
import { PendingPublishes } from '../src/pending-publishes.js';

// Oracle tests for ADR 0005: each hand-written replacement against what it stands in for, on
// generated input: the pending-publish ring against a Map (oldest first, as the Map iterated).

describe('PendingPublishes against a Map', () => {
  test('200,000 generated adds and deletes leave the same entries, found and iterated alike', () => {
    const next = seededRandom(7);
    const ring = new PendingPublishes<{ token: number }>(16);
    const map = new Map<number, { token: number }>();
    let token = 0;
    for (let op = 0; op < 200_000; op++) {
      const roll = next();
      if (roll < 0.55 || map.size === 0) {
        const entry = { token: token++ };
        ring.add(entry);
        map.set(entry.token, entry);
      } else {
        // Mostly the oldest (acks come back roughly in order), sometimes any (a straggler).
        const key =
          roll < 0.9 ? (map.keys().next().value as number) : [...map.keys()][Math.floor(next() * map.size)]!;
        expect(ring.delete(map.get(key)!)).toBe(true);
        map.delete(key);
      }
      if (op % 997 === 0) {
        expect(ring.size).toBe(map.size);
        expect([...ring].map((e) => e.token)).toEqual([...map.keys()]);
        const probe = Math.floor(next() * (token + 10));
        expect(ring.get(probe)).toBe(map.get(probe));
      }
    }
  });
});
