import { createLogger } from '@fuze/core';
import { type NatsServerHandle, startNatsServer, waitFor } from '@fuze/test/harness';
import { jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LostAckRepair } from '../src/lost-ack-repair.js';

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

test('after the connection comes back, messages whose acks were confirmed just before it dropped are removed from the stream', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'LAR', subjects: ['lar.>'], retention: RetentionPolicy.Workqueue });
  const js = jetstream(nc);
  for (let i = 1; i <= 5; i++) await js.publish(`lar.${i}`, String(i));
  let clock = 1_000_000;
  const repair = new LostAckRepair('LAR', createLogger('silent'), () => clock);
  repair.watch(nc, jsm);
  // Acks of 1 and 2 confirmed long before the drop; of 3 and 4 just before. (The messages were
  // never acked here: they stand for acks the server confirmed and then forgot in a kill -9.)
  repair.confirmed(1);
  repair.confirmed(2);
  clock += 60_000;
  repair.confirmed(3);
  repair.confirmed(4);
  clock += 500;

  await server.kill();
  await server.restart();
  const remaining = async () => {
    const sequences: number[] = [];
    const info = await jsm.streams.info('LAR');
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage('LAR', { seq }).catch(() => null);
      if (msg) sequences.push(seq);
    }
    return sequences;
  };
  await waitFor(async () => (await remaining()).join() === '1,2,5', {
    timeoutMs: 20_000,
    message: 'messages 3 and 4 not removed after the reconnect',
  });
  repair.stop();
  expect(await remaining()).toEqual([1, 2, 5]);
});
