import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  decodeStoredState,
  encodeStoredState,
  openStateBucket,
  parseStateKey,
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
      for (const seq of [0, 1, 42, 2 ** 40]) {
        const text = encodeStoredState({ seq, state });
        const parsed = JSON.parse(text) as { seq: number; state?: unknown };
        const decoded = decodeStoredState(text);
        expect(decoded.seq).toBe(parsed.seq);
        expect(decoded.state === undefined ? undefined : JSON.parse(decoded.state)).toEqual(parsed.state);
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
