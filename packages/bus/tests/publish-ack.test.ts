import { createLogger, loadConfig } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureTopology } from '../src/index.js';
import { PlainAckReader } from '../src/publish-ack.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('PlainAckReader', () => {
  test.each([
    ['{"stream":"FUZE_EVENTS", "seq":1}', { stream: 'FUZE_EVENTS', seq: 1, duplicate: false }],
    [
      '{"stream":"FUZE_EVENTS", "seq":42,"duplicate": true}',
      { stream: 'FUZE_EVENTS', seq: 42, duplicate: true },
    ],
    ['{"stream":"FUZE_EVENTS","seq":1}', { stream: 'FUZE_EVENTS', seq: 1, duplicate: false }],
    [
      '{"stream":"FUZE_EVENTS","seq":9007199254740}',
      { stream: 'FUZE_EVENTS', seq: 9007199254740, duplicate: false },
    ],
    [
      '{"stream":"FUZE_EVENTS","seq":42,"duplicate":true}',
      { stream: 'FUZE_EVENTS', seq: 42, duplicate: true },
    ],
    ['{"stream":"ÉVÉNEMENTS","seq":7}', { stream: 'ÉVÉNEMENTS', seq: 7, duplicate: false }],
  ])('reads %s', (text, expected) => {
    expect(new PlainAckReader().read(bytes(text))).toEqual(expected);
  });

  test.each([
    '{"error":{"code":503,"err_code":10039,"description":"jetstream not enabled"}}',
    '{"stream":"S","seq":1,"error":{"code":400}}',
    '{"stream":"S","domain":"hub","seq":3}',
    '{"seq":3,"stream":"S"}',
    '{"stream":"S","seq":}',
    '{"stream":"S","seq":12',
    '{"stream":"S","seq":1,"duplicate":false}',
    '{"stream":"S", "seq":1, "duplicate": true, "x": 1}',
    '{"stream":"S" , "seq":1}',
    '{"stream":"S","seq":1} ',
    '{"stream":"S","seq":1234567890123456}',
    '{"stream":"S',
    '',
  ])('leaves %j to JSON.parse', (text) => {
    expect(new PlainAckReader().read(bytes(text))).toBeUndefined();
  });

  test('a new stream name is read afresh, not taken from the last ack', () => {
    const reader = new PlainAckReader();
    expect(reader.read(bytes('{"stream":"AB","seq":1}'))?.stream).toBe('AB');
    expect(reader.read(bytes('{"stream":"AC","seq":2}'))?.stream).toBe('AC');
    expect(reader.read(bytes('{"stream":"ACD","seq":3}'))?.stream).toBe('ACD');
    expect(reader.read(bytes('{"stream":"ACD","seq":4}'))?.stream).toBe('ACD');
  });

  describe('against a real nats-server', () => {
    let server: NatsServerHandle;
    let nc: NatsConnection;
    beforeAll(async () => {
      server = await startNatsServer();
      nc = await connect({ servers: server.url });
      await ensureTopology(
        await jetstreamManager(nc),
        loadConfig({ FUZE_STREAM_PREFIX: 'A' }).streams,
        createLogger('silent'),
      );
    });
    afterAll(async () => {
      await nc?.close();
      await server?.[Symbol.asyncDispose]();
    });

    test('reads what the server sends for a stored and for a duplicate message as JSON.parse does', async () => {
      const reader = new PlainAckReader();
      const publishRaw = async () => {
        const h = headers();
        h.set('Nats-Msg-Id', 'ack-reader-1');
        const reply = await nc.request('a.events.default.ack', bytes('x'), { headers: h, timeout: 5_000 });
        return reply.data;
      };
      const acks = [await publishRaw(), await publishRaw()];
      const parsed = acks.map((ack) => JSON.parse(new TextDecoder().decode(ack)) as Record<string, unknown>);
      expect(parsed.map((p) => p.duplicate === true)).toEqual([false, true]);
      acks.forEach((ack, i) => {
        expect(reader.read(ack)).toEqual({
          stream: parsed[i]!.stream,
          seq: parsed[i]!.seq,
          duplicate: parsed[i]!.duplicate === true,
        });
      });
    });
  });
});
