import { connectTo, type NatsServerHandle, startNatsServer, waitFor } from '@fuze/test/harness';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { watchPulls } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'WATCHED', subjects: ['watched.>'] });
  await jsm.consumers.add('WATCHED', { durable_name: 'pulls', ack_policy: AckPolicy.Explicit });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/** A consume of the durable with 1 s heartbeats, watched: what it was told, once heartbeats flow. */
async function watchedConsume() {
  const consumer = await jetstream(nc).consumers.get('WATCHED', 'pulls');
  const messages = await consumer.consume({
    expires: 3_000,
    idle_heartbeat: 1_000,
    callback: (m) => m.ack(),
  });
  const seen: string[] = [];
  const told: string[] = [];
  const watching = watchPulls(messages, nc, {
    seen: (status) => seen.push(status.type),
    unanswered: (reason) => told.push(reason),
  });
  await waitFor(() => seen.includes('heartbeat'), { timeoutMs: 10_000, message: 'a heartbeat' });
  return { messages, told, watching };
}

test('a consume is told once, when its connection is lost, that its pulls must be reopened', async () => {
  const { messages, told, watching } = await watchedConsume();
  expect(told).toEqual([]);

  // The consumer is back at once after a restart of its only server: nats.js would pull again by
  // itself and report nothing; the watch tells anyway (in a cluster, the consumer's leader may
  // have died with that server, and nats.js waits it out without heartbeats).
  await server.kill();
  await server.restart();
  await waitFor(() => told.length > 0, { timeoutMs: 20_000, message: 'told of the lost connection' });
  expect(told).toEqual(['the NATS connection was lost']);

  let reconnects = 0;
  void (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') reconnects += 1;
  })();
  await server.kill();
  await server.restart();
  await waitFor(() => reconnects === 1, { timeoutMs: 20_000, message: 'reconnected again' });
  expect(told).toHaveLength(1);
  // The watch ends with the consume.
  messages.stop();
  await watching;
});

test('a consume whose pulls go unanswered (two heartbeats missed) is told so', async () => {
  const { messages, told } = await watchedConsume();
  // A hung server keeps the connection open and answers nothing.
  await server.pause();
  try {
    await waitFor(() => told.length > 0, { timeoutMs: 20_000, message: 'told of the missed heartbeats' });
  } finally {
    server.resume();
  }
  expect(told).toEqual(['pulls unanswered (the consumer may be electing a leader)']);
  messages.stop();
});
