import { seededRandom } from '@fuze/test/harness';
import { headers, Match } from '@nats-io/transport-node';
import { describe, expect, test } from 'vitest';
import { headerBlock } from '../src/header-block.js';

// The oracle for ADR 0005's header block: the bytes nats.js would send for the same headers,
// set with exact name matching (as the block keeps each name's case).
const tokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const valueChars = ' abcXYZ019-_:/.=+;,"\'{}[]éü漢😀\t';

function text(next: () => number, chars: string, min: number, max: number): string {
  const glyphs = [...chars];
  const length = min + Math.floor(next() * (max - min + 1));
  let out = '';
  for (let i = 0; i < length; i++) out += glyphs[Math.floor(next() * glyphs.length)];
  return out;
}

function encoded(h: unknown): Uint8Array {
  return (h as { encode(): Uint8Array }).encode();
}

function natsBlock(msgId: string, values: Record<string, string>): Uint8Array {
  const h = headers();
  h.set('Nats-Msg-Id', msgId, Match.Exact);
  for (const [name, value] of Object.entries(values)) h.set(name, value, Match.Exact);
  // encode() is what nats.js's publish calls; MsgHdrs does not declare it.
  return encoded(h);
}

describe('headerBlock against nats.js MsgHdrs', () => {
  test('writes the same bytes for 5,000 generated header sets', () => {
    const next = seededRandom(20261205);
    for (let run = 0; run < 5_000; run++) {
      const msgId = text(next, valueChars.replace('\t', ''), 1, 40).trim() || 'id';
      const values: Record<string, string> = {};
      const count = Math.floor(next() * 6);
      for (let i = 0; i < count; i++) {
        const name = text(next, tokenChars, 1, 24);
        if (name.toLowerCase() === 'nats-msg-id') continue;
        values[name] = text(next, valueChars, 0, 60).trim();
      }
      expect(Buffer.from(encoded(headerBlock(msgId, values))).toString('utf8')).toBe(
        Buffer.from(natsBlock(msgId, values)).toString('utf8'),
      );
    }
  });

  test('the headers Fuze sends read back the same through nats.js', () => {
    const values = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'Fuze-Deliver-At': '2030-01-01T09:00:00.000Z',
    };
    const block = headerBlock('abc', values);
    expect(Buffer.from(encoded(block))).toEqual(Buffer.from(natsBlock('abc', values)));
  });
});
