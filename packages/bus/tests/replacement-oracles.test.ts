import { describe, expect, test } from 'vitest';
import { PendingPublishes } from '../src/pending-publishes.js';
import { PlainAckReader } from '../src/publish-ack.js';

// Oracle tests for ADR 0005: each hand-written replacement against what it stands in for, on
// generated input. The pending-publish ring against a Map (oldest first, as the Map iterated);
// the ack reader against JSON.parse.

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PendingPublishes against a Map', () => {
  test('200,000 generated adds and deletes leave the same entries, found and iterated alike', () => {
    const next = random(7);
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

describe('PlainAckReader against JSON.parse', () => {
  test('on 20,000 edits of real acks it answers as JSON.parse would, or leaves the ack to it', () => {
    const next = random(11);
    const seeds = [
      '{"stream":"FUZE_EVENTS", "seq":1}',
      '{"stream":"FUZE_DELIVERY", "seq":123456,"duplicate": true}',
      '{"stream":"S","seq":42}',
    ];
    const alphabet = ['"', ',', ':', ' ', '}', '{', '1', '9', 'a', 'true', 'false', 'seq', 'stream', 'é'];
    const reader = new PlainAckReader();
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = seeds[Math.floor(next() * seeds.length)]!;
      const edits = Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (text.length + 1));
        const roll = next();
        if (roll < 0.4) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + alphabet[Math.floor(next() * alphabet.length)] + text.slice(at);
      }
      const ours = reader.read(Buffer.from(text));
      if (ours === undefined) continue;
      read++;
      const theirs = JSON.parse(text) as { stream: unknown; seq: unknown; duplicate?: unknown };
      expect(ours, text).toEqual({
        stream: theirs.stream,
        seq: theirs.seq,
        duplicate: theirs.duplicate === true,
      });
    }
    expect(read).toBeGreaterThan(5_000);
  });
});
