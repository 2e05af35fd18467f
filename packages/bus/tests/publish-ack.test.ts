import { describe, expect, test } from 'vitest';
import { PlainAckReader } from '../src/publish-ack.js';

const bytes = (s: string) => new TextEncoder().encode(s);

// Acks from a real nats-server: publisher.test.ts.
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
});
