import { FuzeError } from '@fuze/core';
import { connectTo, type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { JetStreamPublisher } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;
const bytes = (s: string) => new TextEncoder().encode(s);
const text = new TextDecoder();

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'KEYED', subjects: ['keyed.>'] });
  await jsm.streams.add({ name: 'SMALL', subjects: ['small.>'], max_msg_size: 64 });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/** The stored payloads of a subject, in stream order. */
async function stored(stream: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const out: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) out.push(text.decode(msg.data));
  }
  return out;
}

describe('JetStreamPublisher ordering keys', () => {
  test('a publish whose predecessor of the same key failed is not sent; other keys go on', async () => {
    const publisher = new JetStreamPublisher(nc);
    const first = publisher.publish({
      subject: 'small.a',
      payload: bytes('x'.repeat(200)), // over the stream's max_msg_size: refused for good
      msgId: 'a-1',
      orderingKey: 'a',
    });
    const second = publisher.publish({
      subject: 'small.a',
      payload: bytes('a2'),
      msgId: 'a-2',
      orderingKey: 'a',
    });
    const other = publisher.publish({
      subject: 'small.b',
      payload: bytes('b1'),
      msgId: 'b-1',
      orderingKey: 'b',
    });
    await expect(first).rejects.toBeInstanceOf(FuzeError);
    const error = (await second.catch((e: unknown) => e)) as FuzeError;
    expect(error.code).toBe('FUZE_PUBLISH_FAILED');
    expect(error.message).toMatch(/earlier publish of its ordering key failed/);
    await expect(other).resolves.toMatchObject({ stream: 'SMALL' });
    expect(await stored('SMALL')).toEqual(['b1']);
    await publisher.close();
  });

  test('a publish refused for a while (503) holds back the next of its key until it is stored', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LATER', subjects: ['later.ready'] });
    const publisher = new JetStreamPublisher(nc, { ackTimeoutMs: 200, giveUpAfterMs: 30_000 });
    // No stream listens on later.pending yet: JetStream answers 503 and the publisher re-sends.
    const first = publisher.publish({
      subject: 'later.pending',
      payload: bytes('1'),
      msgId: 'l-1',
      orderingKey: 'k',
    });
    const second = publisher.publish({
      subject: 'later.ready',
      payload: bytes('2'),
      msgId: 'l-2',
      orderingKey: 'k',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await stored('LATER')).toEqual([]); // the second waits for the first
    await jsm.streams.update('LATER', { subjects: ['later.ready', 'later.pending'] });
    await Promise.all([first, second]);
    expect(await stored('LATER')).toEqual(['1', '2']);
    await publisher.close();
  });

  test('across a nats-server crash and restart, each key is stored in call order', async () => {
    const publisher = new JetStreamPublisher(nc, { ackTimeoutMs: 500, giveUpAfterMs: 60_000 });
    const keys = 10;
    const perKey = 300;
    const acks: Promise<unknown>[] = [];
    let restarting: Promise<void> | undefined;
    for (let n = 1; n <= perKey; n++) {
      for (let k = 0; k < keys; k++)
        acks.push(
          publisher.publish({
            subject: `keyed.${k}`,
            payload: bytes(`${k}:${n}`),
            msgId: `${k}-${n}`,
            orderingKey: `k${k}`,
          }),
        );
      if (n === perKey / 3) restarting = server.kill().then(() => server.restart());
      if (n % 50 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await restarting;
    await Promise.all(acks);
    const byKey = new Map<string, number[]>();
    for (const payload of await stored('KEYED')) {
      const [k, n] = payload.split(':');
      byKey.set(k!, [...(byKey.get(k!) ?? []), Number(n)]);
    }
    for (let k = 0; k < keys; k++)
      expect(byKey.get(String(k)), `key ${k}`).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
    await publisher.close();
  });
});
