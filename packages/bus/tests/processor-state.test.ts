import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  decodeStoredState,
  encodeStoredState,
  isWrongLastSequence,
  JetStreamPublisher,
  openStateBucket,
  parseStateKey,
  putStateIfRevision,
  readPartitionStates,
  stateBucketName,
  stateKey,
} from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

describe('stored states', () => {
  const states = [
    undefined,
    '0',
    'null',
    '"a string with } and ,\\"state\\": inside"',
    '{"prices":[1,2.5,-3e-7],"nested":{"seq":9,"state":"x"}}',
    '[{"}":"{"}]',
  ];

  test('what encodeStoredState writes, decodeStoredState reads back as JSON.parse does', () => {
    for (const state of states)
      for (const seq of [0, 1, 42, 2 ** 40])
        for (const timers of [undefined, {}, { flush: 1_900_000_000_000, 'a}:"b': 5 }] as Array<
          Record<string, number> | undefined
        >) {
          const text = encodeStoredState({ seq, state, ...(timers ? { timers } : {}) });
          const parsed = JSON.parse(text) as { seq: number; state?: unknown; timers?: object };
          const decoded = decodeStoredState(text);
          expect(decoded.seq).toBe(parsed.seq);
          expect(decoded.state === undefined ? undefined : JSON.parse(decoded.state)).toEqual(parsed.state);
          expect(decoded.timers).toEqual(parsed.timers);
          expect(parsed.timers).toEqual(timers && Object.keys(timers).length > 0 ? timers : undefined);
        }
  });

  test('values of any other shape are parsed, and a value without a seq is refused', () => {
    expect(decodeStoredState('{"state":{"a":1},"seq":7}')).toEqual({ seq: 7, state: '{"a":1}' });
    expect(decodeStoredState('{ "seq": 3, "state": [1, 2] }')).toEqual({ seq: 3, state: '[1,2]' });
    expect(decodeStoredState('{"seq":3.5,"state":1}')).toEqual({ seq: 3.5, state: '1' });
    expect(() => decodeStoredState('{"state":1}')).toThrow('no seq');
  });

  test('bucket keys carry any partition key, and name it back', () => {
    for (const key of ['AAPL', 'a.b.c', 'k>*', 'ünï cödé / spaces', ''])
      expect(parseStateKey(stateKey(5, key))).toEqual({ partition: 5, key });
    expect(parseStateKey('nodot')).toBeUndefined();
  });

  test('readPartitionStates returns what the KV client reads for every key, one partition or most of them', async () => {
    const kv = await openStateBucket(nc, 'PST', 'reader');
    const partitionCount = 8;
    const written = new Map<string, { partition: number; key: string }>();
    for (let i = 0; i < 200; i++) {
      const partition = i % partitionCount;
      const key = `key-${i}.${i % 3 === 0 ? 'dotted' : 'plain'}`;
      await kv.put(stateKey(partition, key), encodeStoredState({ seq: i + 1, state: JSON.stringify({ i }) }));
      if (i % 10 === 0)
        await kv.put(stateKey(partition, key), encodeStoredState({ seq: i + 1000, state: undefined }));
      if (i % 17 === 0) await kv.delete(stateKey(partition, key));
      written.set(stateKey(partition, key), { partition, key });
    }
    const js = jetstream(nc);
    const bucket = stateBucketName('PST', 'reader');
    for (const partitions of [[3], [0, 1, 2, 5, 6]]) {
      const read = await readPartitionStates(js, bucket, partitions, partitionCount);
      expect([...read.keys()].sort()).toEqual([...partitions].sort());
      for (const [bucketKey, { partition, key }] of written) {
        const held = read.get(partition)?.get(key);
        if (!partitions.includes(partition)) {
          expect(held).toBeUndefined();
          continue;
        }
        const entry = await kv.get(bucketKey);
        expect(held?.revision).toBe(entry?.revision);
        if (entry?.operation === 'PUT') expect(held).toMatchObject(decodeStoredState(entry.string()));
        else expect(held).toMatchObject({ seq: 0, state: undefined });
      }
    }
    expect((await readPartitionStates(js, bucket, [7], 64)).get(7)?.size).toBe(25);
  });
});

describe('putStateIfRevision (stands in for kv.put with previousSeq; ADR 0005)', () => {
  test('stores, refuses and answers as kv.put does, key by key', async () => {
    const kv = await openStateBucket(nc, 'PST', 'cas');
    const publisher = new JetStreamPublisher(nc);
    const bucket = stateBucketName('PST', 'cas');
    const outcome = async (write: () => Promise<number>) => {
      try {
        return { revision: await write() };
      } catch (err) {
        return { refused: isWrongLastSequence(err) };
      }
    };
    try {
      // Each step on two keys: one written by kv.put, one by putStateIfRevision; same outcome.
      const library = stateKey(1, 'library');
      const ours = stateKey(1, 'ours');
      let expectedLibrary = 0;
      let expectedOurs = 0;
      let lastWrite = { value: '', expected: 0, id: '' };
      const steps: Array<{ expected: (current: number) => number; value: string; remove?: boolean }> = [
        { expected: () => 0, value: '{"seq":1}' }, // first write
        { expected: () => 0, value: '{"seq":2}' }, // "never written" again: refused
        { expected: (current) => current, value: '{"seq":3,"state":1}' },
        { expected: (current) => current - 1, value: '{"seq":4}' }, // stale revision: refused
        { expected: (current) => current, value: '', remove: true }, // an operator's delete
        { expected: (current) => current, value: '{"seq":5}' }, // from the delete marker's revision
      ];
      for (const [i, step] of steps.entries()) {
        if (step.remove) {
          await kv.delete(library);
          await kv.delete(ours);
          expectedLibrary = (await kv.get(library))?.revision ?? 0;
          expectedOurs = (await kv.get(ours))?.revision ?? 0;
          continue;
        }
        const fromLibrary = await outcome(() =>
          kv.put(library, step.value, { previousSeq: step.expected(expectedLibrary) }),
        );
        const expected = step.expected(expectedOurs);
        const fromOurs = await outcome(() =>
          putStateIfRevision(publisher, bucket, ours, step.value, expected, `step-${i}`),
        );
        lastWrite = { value: step.value, expected, id: `step-${i}` };
        expect('refused' in fromOurs, `step ${i}`).toBe('refused' in fromLibrary);
        if ('refused' in fromLibrary)
          expect(fromLibrary.refused && (fromOurs as { refused: boolean }).refused).toBe(true);
        if ('revision' in fromLibrary && fromLibrary.revision !== undefined) {
          expectedLibrary = fromLibrary.revision;
          expectedOurs = (fromOurs as { revision: number }).revision;
          expect((await kv.get(ours))?.revision).toBe(expectedOurs);
          expect((await kv.get(ours))?.string()).toBe((await kv.get(library))?.string());
        }
      }
      // The last write sent again (as after a lost ack) answers with the revision it stored,
      // and stores nothing; a different write from the same revision is refused.
      const stored = await kv.get(ours);
      expect(stored?.string()).toBe('{"seq":5}');
      const again = await putStateIfRevision(
        publisher,
        bucket,
        ours,
        lastWrite.value,
        lastWrite.expected,
        lastWrite.id,
      );
      expect(again).toBe(stored?.revision);
      expect((await kv.get(ours))?.revision).toBe(stored?.revision);
      const other = await outcome(() =>
        putStateIfRevision(publisher, bucket, ours, '{"seq":6}', lastWrite.expected, 'another'),
      );
      expect(other).toEqual({ refused: true });
    } finally {
      await publisher.close();
    }
  });
});
