import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from './compare-and-swap.js';

/**
 * A stream position that only moves forward, kept in the checkpoints bucket: "every message of
 * this consumer up to here was processed". A consumer recreated after a failover resumes after
 * it, whatever the (possibly lost or not yet recovered) consumer state says, so it never rewinds
 * to the start of the stream. Writes are compare-and-swap: a smaller position never replaces a
 * larger one.
 */
export class Checkpoint {
  private revision = 0;
  private position = 0;

  constructor(
    private readonly kv: KV,
    readonly key: string,
  ) {}

  /** The stored position (0 when none), read from the bucket. */
  async read(): Promise<number> {
    const entry = await this.kv.get(this.key);
    if (entry && entry.operation === 'PUT') {
      this.revision = entry.revision;
      this.position = Number(entry.string()) || 0;
    }
    return this.position;
  }

  /** The last position read or written here. */
  get known(): number {
    return this.position;
  }

  /** Stores `position` unless the bucket already holds a larger one. */
  async advance(position: number): Promise<void> {
    for (let attempt = 0; attempt < 3 && position > this.position; attempt++) {
      try {
        this.revision =
          this.revision === 0
            ? await this.kv.create(this.key, String(position))
            : await this.kv.update(this.key, String(position), this.revision);
        this.position = position;
        return;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        await this.read(); // someone else wrote: compare with theirs
      }
    }
  }
}
