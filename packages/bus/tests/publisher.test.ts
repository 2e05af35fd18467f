import { createLogger, FuzeError, loadConfig } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureTopology, JetStreamPublisher } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;
const bytes = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url, noAsyncTraces: true });
  await ensureTopology(
    await jetstreamManager(nc),
    loadConfig({ FUZE_STREAM_PREFIX: 'P' }).streams,
    createLogger('silent'),
  );
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

describe('JetStreamPublisher', () => {
  test('pipelines thousands of publishes; each resolves with its own stored sequence', async () => {
    const publisher = new JetStreamPublisher(nc, { maxInFlight: 500 });
    const acks = await Promise.all(
      Array.from({ length: 5_000 }, (_, i) =>
        publisher.publish({ subject: 'p.events.default.load', payload: bytes(`m${i}`), msgId: `load-${i}` }),
      ),
    );
    expect(new Set(acks.map((a) => a.seq)).size).toBe(5_000);
    expect(acks.every((a) => a.stream === 'P_EVENTS' && !a.duplicate)).toBe(true);
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('P_EVENTS')).state.messages).toBeGreaterThanOrEqual(5_000);
    await publisher.close();
  });

  test("nats-server's acks, stored and duplicate, resolve as what the server answered", async () => {
    const publisher = new JetStreamPublisher(nc);
    const request = { subject: 'p.events.default.ack', payload: bytes('x'), msgId: 'ack-reader-1' };
    const first = await publisher.publish(request);
    const again = await publisher.publish(request);
    expect(first).toEqual({ stream: 'P_EVENTS', seq: expect.any(Number), duplicate: false });
    expect(again).toEqual({ stream: 'P_EVENTS', seq: first.seq, duplicate: true });
  });

  test('the same msgId inside the duplicate window is reported as a duplicate', async () => {
    const publisher = new JetStreamPublisher(nc);
    const first = await publisher.publish({
      subject: 'p.events.default.d',
      payload: bytes('a'),
      msgId: 'same',
    });
    const second = await publisher.publish({
      subject: 'p.events.default.d',
      payload: bytes('a'),
      msgId: 'same',
    });
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ ...first, duplicate: true });
    await publisher.close();
  });

  test('headers travel with the message', async () => {
    const publisher = new JetStreamPublisher(nc);
    const ack = await publisher.publish({
      subject: 'p.events.default.h',
      payload: bytes('h'),
      msgId: 'with-headers',
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage('P_EVENTS', { seq: ack.seq });
    expect(stored?.header.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(stored?.header.get('Nats-Msg-Id')).toBe('with-headers');
    await publisher.close();
  });

  test('several headers keep their names and values, non-ASCII included', async () => {
    const publisher = new JetStreamPublisher(nc);
    const headers = { 'Fuze-Target': 'orders/ship', tracestate: 'a=1,b=2', 'Fuze-Key': 'clé-7' };
    const ack = await publisher.publish({
      subject: 'p.events.default.h',
      payload: bytes('h'),
      msgId: 'many',
      headers,
    });
    const stored = await (await jetstreamManager(nc)).streams.getMessage('P_EVENTS', { seq: ack.seq });
    for (const [name, value] of Object.entries(headers)) expect(stored?.header.get(name)).toBe(value);
    await publisher.close();
  });

  test('a header value with a line break, or a name that is not a token, is refused before anything is sent', async () => {
    const publisher = new JetStreamPublisher(nc);
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info('P_EVENTS')).state.last_seq;
    const error = await publisher
      .publish({
        subject: 'p.events.default.h',
        payload: bytes('x'),
        msgId: 'injected',
        headers: { tracestate: 'a=1\r\nNats-Msg-Id: forged' },
      })
      .catch((e: unknown) => e);
    expect((error as FuzeError).code).toBe('FUZE_PUBLISH_FAILED');
    const badName = await publisher
      .publish({
        subject: 'p.events.default.h',
        payload: bytes('x'),
        msgId: 'bad-name',
        headers: { 'Bad Name': 'x' },
      })
      .catch((e: unknown) => e);
    expect((badName as FuzeError).code).toBe('FUZE_PUBLISH_FAILED');
    expect((await jsm.streams.info('P_EVENTS')).state.last_seq).toBe(before);
    await publisher.close();
  });

  test('a queued publish whose header is refused passes its room on: the ones behind it still go', async () => {
    const publisher = new JetStreamPublisher(nc, { maxInFlight: 1 });
    const first = publisher.publish({
      subject: 'p.events.default.room',
      payload: bytes('1'),
      msgId: 'room-1',
    });
    const refused = publisher.publish({
      subject: 'p.events.default.room',
      payload: bytes('2'),
      msgId: 'room-2',
      headers: { 'x-bad': 'line\nbreak' },
    });
    const third = publisher.publish({
      subject: 'p.events.default.room',
      payload: bytes('3'),
      msgId: 'room-3',
    });
    expect(publisher.inFlight).toBe(1);
    await expect(first).resolves.toMatchObject({ duplicate: false });
    await expect(refused).rejects.toMatchObject({ code: 'FUZE_PUBLISH_FAILED' });
    await expect(third).resolves.toMatchObject({ duplicate: false });
    await publisher.close();
  });

  test('no stream for the subject: retried, then a timeout error that says why', async () => {
    const publisher = new JetStreamPublisher(nc, { ackTimeoutMs: 200, giveUpAfterMs: 1_000 });
    const error = await publisher
      .publish({ subject: 'nowhere.at.all', payload: bytes('x'), msgId: 'lost' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FuzeError);
    expect((error as FuzeError).code).toBe('FUZE_PUBLISH_TIMEOUT');
    expect((error as FuzeError).message).toMatch(/503|no responders/i);
    await publisher.close();
  });

  test('a publish still waiting after the ring has come round is kept, re-sent and acked once its stream exists', async () => {
    // maxInFlight 4: a ring of 64 slots, so 100 later publishes take the waiting one's slot.
    const publisher = new JetStreamPublisher(nc, {
      maxInFlight: 4,
      ackTimeoutMs: 200,
      giveUpAfterMs: 30_000,
    });
    const waiting = publisher.publish({ subject: 'late.orders', payload: bytes('late'), msgId: 'late-1' });
    const later = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        publisher.publish({ subject: 'p.events.default.ring', payload: bytes(`r${i}`), msgId: `ring-${i}` }),
      ),
    );
    expect(new Set(later.map((a) => a.seq)).size).toBe(100);
    expect(publisher.inFlight).toBe(1);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LATE', subjects: ['late.>'] });
    await expect(waiting).resolves.toMatchObject({ stream: 'LATE', seq: 1, duplicate: false });
    expect(publisher.inFlight).toBe(0);
    await publisher.close();
  });

  test('a permanent JetStream refusal fails at once with its reason', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'TINY', subjects: ['tiny.>'], max_msg_size: 16 });
    const publisher = new JetStreamPublisher(nc, { giveUpAfterMs: 60_000 });
    const error = await publisher
      .publish({ subject: 'tiny.x', payload: bytes('x'.repeat(100)), msgId: 'too-big' })
      .catch((e: unknown) => e);
    expect((error as FuzeError).code).toBe('FUZE_PUBLISH_FAILED');
    expect((error as FuzeError).message).toMatch(/message size exceeds maximum/i);
    await publisher.close();
  });
});
