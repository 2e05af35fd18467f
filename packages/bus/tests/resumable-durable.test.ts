import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Checkpoint, openResumableDurable } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RD', subjects: ['rd.>'] });
  const js = jetstream(nc);
  for (let i = 1; i <= 100; i++) await js.publish('rd.x', `m${i}`);
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

async function checkpoint(key: string): Promise<Checkpoint> {
  return new Checkpoint(await new Kvm(nc).create('RD_CHECKPOINTS', { history: 1 }), key);
}

async function open(name: string, cp: Checkpoint) {
  return openResumableDurable(await jetstreamManager(nc), jetstream(nc), {
    stream: 'RD',
    name,
    filterSubject: 'rd.>',
    ackWaitMs: 30_000,
    maxAckPending: 100,
    checkpoint: cp,
  });
}

describe('openResumableDurable', () => {
  test('a missing durable with a checkpoint resumes after it, not from the start of the stream', async () => {
    const cp = await checkpoint('missing');
    await cp.advance(60);
    const consumer = await open('missing', cp);
    const first = await consumer.next({ expires: 5_000 });
    expect(first?.seq).toBe(61);
    first?.ack();
  });

  test('a durable left with unacked messages is recreated after its floor, and the floor is checkpointed first', async () => {
    const cp = await checkpoint('unacked');
    const consumer = await open('unacked', cp);
    for (let i = 1; i <= 10; i++) {
      const msg = await consumer.next({ expires: 5_000 });
      if (msg!.seq <= 5) await msg!.ackAck();
    }
    // The owner dies with 6..10 delivered, unacked; the next one must see 6 first, not after ack_wait.
    const reopened = await open(
      'unacked',
      new Checkpoint(await new Kvm(nc).open('RD_CHECKPOINTS'), 'unacked'),
    );
    expect((await reopened.next({ expires: 5_000 }))?.seq).toBe(6);
    expect(await cp.read()).toBe(5);
  });

  test('a durable whose state lags the checkpoint (a leader that lost it) is recreated after the checkpoint', async () => {
    const cp = await checkpoint('lagging');
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add('RD', {
      durable_name: 'lagging',
      filter_subject: 'rd.>',
      ack_policy: AckPolicy.Explicit,
    });
    await cp.advance(90);
    const consumer = await open('lagging', cp);
    expect((await consumer.next({ expires: 5_000 }))?.seq).toBe(91);
  });
});

describe('Checkpoint', () => {
  test('never moves back, whoever writes', async () => {
    const a = await checkpoint('race');
    const b = await checkpoint('race');
    await a.advance(40);
    await b.advance(30); // b has not read: its compare-and-swap fails, it reads 40 and keeps it
    expect(await b.read()).toBe(40);
    await b.advance(50);
    await a.advance(45);
    expect(await a.read()).toBe(50);
  });
});
