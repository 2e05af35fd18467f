/**
 * A protobuf writer that encodes in one pass into a buffer it keeps between messages.
 *
 * Why not the official serializer's writer: that one runs every message twice (a size pass,
 * then the bytes), allocates a Uint8Array per trace or span id, and shifts every message longer
 * than 127 bytes. Here a nested message reserves the bytes its length usually needs (`begin`) and
 * moves its body only when the length needs another size (`end`).
 *
 * Varints are always minimal, so the bytes are exactly what any conforming encoder writes for the
 * same fields in the same order (the OTLP tests compare them with the official serializer's).
 */
export class ProtobufWriter {
  private buffer: Uint8Array;
  private readonly text = new TextEncoder();
  pos = 0;

  constructor(private readonly minimumSize = 4096) {
    this.buffer = Buffer.allocUnsafeSlow(minimumSize);
  }

  /**
   * Starts a new message in a fresh buffer the size of the last message and a quarter: the
   * message `finish` returns is a view of it (copying a batch of spans out cost more than the
   * allocation), and it is not zero-filled since every byte returned is written.
   */
  reset(): void {
    this.buffer = Buffer.allocUnsafeSlow(Math.max(this.minimumSize, this.pos + (this.pos >>> 2)));
    this.pos = 0;
  }

  /**
   * What was written since `reset`: the caller owns it. The unwritten tail of the buffer under it
   * is zeroed, so no stale memory is reachable through the view's `.buffer`.
   */
  finish(): Uint8Array {
    this.buffer.fill(0, this.pos);
    return this.buffer.subarray(0, this.pos);
  }

  /** A copy of what was written from `start` on (not `slice`: a Buffer's slice is a view). */
  snapshot(start: number): Uint8Array {
    return new Uint8Array(this.buffer.subarray(start, this.pos));
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    grown.set(this.buffer.subarray(0, this.pos));
    this.buffer = grown;
  }

  /** Field tag: `field << 3 | wireType`, as a varint. */
  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.uint32((field << 3) | wireType);
  }

  /** An unsigned 32-bit varint. */
  uint32(value: number): void {
    this.room(5);
    const buffer = this.buffer;
    let v = value >>> 0;
    while (v > 0x7f) {
      buffer[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buffer[this.pos++] = v;
  }

  /** A varint of any integer a JS number holds exactly; negatives as 64-bit two's complement. */
  int64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) {
      this.uint32(value);
      return;
    }
    let low: number;
    let high: number;
    const abs = Math.abs(value);
    low = abs >>> 0;
    high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.room(10);
    const buffer = this.buffer;
    while (high > 0 || low > 0x7f) {
      buffer[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[this.pos++] = low;
  }

  fixed32(value: number): void {
    this.room(4);
    const buffer = this.buffer;
    const v = value >>> 0;
    buffer[this.pos++] = v & 0xff;
    buffer[this.pos++] = (v >>> 8) & 0xff;
    buffer[this.pos++] = (v >>> 16) & 0xff;
    buffer[this.pos++] = v >>> 24;
  }

  fixed64(low: number, high: number): void {
    this.fixed32(low);
    this.fixed32(high);
  }

  double(value: number): void {
    this.room(8);
    new DataView(this.buffer.buffer, this.buffer.byteOffset + this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
  }

  /** A length-delimited string, UTF-8 (lone surrogates become U+FFFD, as TextEncoder writes them). */
  string(value: string): void {
    const length = value.length;
    const start = this.pos;
    this.uint32(length);
    this.room(length);
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) {
        this.pos = start;
        this.bytes(this.text.encode(value));
        return;
      }
      buffer[pos++] = code;
    }
    this.pos = pos;
  }

  /** Bytes as they are (an encoding made earlier). */
  raw(value: Uint8Array): void {
    this.room(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Length-delimited bytes. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.room(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** Length-delimited bytes from their hex form (trace and span ids), without an array in between. */
  hex(value: string): void {
    const length = value.length >>> 1;
    this.uint32(length);
    this.room(length);
    const buffer = this.buffer;
    let pos = this.pos;
    for (let i = 0; i < 2 * length; i += 2) {
      buffer[pos++] = (nibble(value.charCodeAt(i)) << 4) | nibble(value.charCodeAt(i + 1));
    }
    this.pos = pos;
  }

  /**
   * Starts a nested message, reserving `reserve` bytes for its length (1 for one under 128 bytes,
   * 2 under 16 KiB). Pass the result and the same `reserve` to `end`.
   */
  begin(reserve: number): number {
    this.room(reserve);
    const start = this.pos;
    this.pos += reserve;
    return start;
  }

  /** Writes the length of the message begun at `start`, moving its body if the length needs more or fewer bytes. */
  end(start: number, reserve: number): void {
    const length = this.pos - start - reserve;
    const size = varintSize(length);
    if (size !== reserve) {
      this.room(size - reserve);
      this.buffer.copyWithin(start + size, start + reserve, this.pos);
      this.pos += size - reserve;
    }
    const buffer = this.buffer;
    let at = start;
    let v = length;
    while (v > 0x7f) {
      buffer[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buffer[at] = v;
  }
}

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Hex digit values: 0-9, a-f, A-F (other characters as the official serializer reads them). */
const NIBBLES = Int16Array.from({ length: 256 }, (_, code) => {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
});

function nibble(code: number): number {
  return code < 256 ? NIBBLES[code]! : code - 55;
}
