/** JetStream's acknowledgement: the message is durably stored (or was already, if `duplicate`). */
export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

const utf8 = new TextDecoder();
const prefix = Buffer.from('{"stream":"');
const seqKey = Buffer.from('"seq":');
const duplicateKey = Buffer.from('"duplicate":');
const trueValue = Buffer.from('true');
const quote = 0x22;
const comma = 0x2c;
const space = 0x20;
const closeBrace = 0x7d;

/**
 * Reads the ack nats-server sends for a stored message straight from its bytes:
 * `{"stream":"S", "seq":N}`, with `,"duplicate": true` for a deduplicated one (2.9 writes those
 * spaces; a server that leaves them out reads the same). Anything else (an error, a `domain`, other
 * fields or another order) returns undefined: parse it as JSON.
 *
 * Every publish on every hop reads one; decoding and JSON.parse made an object and two strings each.
 */
export class PlainAckReader {
  private streamBytes: Uint8Array = new Uint8Array(0);
  private stream = '';

  read(data: Uint8Array): PublishAck | undefined {
    if (!startsWith(data, prefix, 0)) return undefined;
    const nameEnd = data.indexOf(quote, prefix.length);
    if (nameEnd < 0 || data[nameEnd + 1] !== comma) return undefined;
    let at = skipSpaces(data, nameEnd + 2);
    if (!startsWith(data, seqKey, at)) return undefined;
    at = skipSpaces(data, at + seqKey.length);
    const digitsStart = at;
    let seq = 0;
    for (let digit = data[at]! - 48; digit >= 0 && digit <= 9; digit = data[at]! - 48) {
      seq = seq * 10 + digit;
      at++;
    }
    // Past 15 digits a sequence could lose precision as a number: leave that to JSON.parse too.
    if (at === digitsStart || at - digitsStart > 15) return undefined;
    let duplicate = false;
    if (data[at] === comma) {
      at = skipSpaces(data, at + 1);
      if (!startsWith(data, duplicateKey, at)) return undefined;
      at = skipSpaces(data, at + duplicateKey.length);
      if (!startsWith(data, trueValue, at)) return undefined;
      at += trueValue.length;
      duplicate = true;
    }
    if (data[at] !== closeBrace || at !== data.length - 1) return undefined;
    return { stream: this.streamName(data, prefix.length, nameEnd), seq, duplicate };
  }

  // A publisher writes to one stream or a few: the last name's string is reused while it repeats.
  private streamName(data: Uint8Array, start: number, end: number): string {
    const known = this.streamBytes;
    let same = known.length === end - start;
    for (let i = 0; same && i < known.length; i++) same = data[start + i] === known[i];
    if (!same) {
      this.streamBytes = data.slice(start, end);
      this.stream = utf8.decode(this.streamBytes);
    }
    return this.stream;
  }
}

function skipSpaces(data: Uint8Array, at: number): number {
  while (data[at] === space) at++;
  return at;
}

function startsWith(data: Uint8Array, expected: Uint8Array, at: number): boolean {
  if (data.length < at + expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (data[at + i] !== expected[i]) return false;
  return true;
}
