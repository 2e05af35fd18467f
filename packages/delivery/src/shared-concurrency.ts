import { type Clock, type Logger, systemClock } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import { ChangeSignal } from './change-signal.js';
import { DeliveryAbortedError } from './errors.js';
import { startedOnce } from './started-once.js';

/** A slot as stored in the flow bucket (`slots.<target>.<n>`): who holds it, until when (epoch ms). */
interface StoredSlot {
  member: string;
  until: number;
}

/** A slot held for one attempt; give it back with `release`. */
export interface HeldSlot {
  release(): Promise<void>;
}

export interface SharedConcurrencyOptions {
  /** The flow bucket (`openFlowBucket`), shared by every worker of the target. */
  kv: KV;
  target: string;
  memberId: string;
  /** The target's current `maxConcurrency`; undefined: unlimited. */
  limit(): number | undefined;
  /** A held slot is renewed this often while its attempt runs (default 10 s); it lapses after 3x that. */
  renewMs?: number;
  clock?: Clock;
  logger: Logger;
}

/**
 * `maxConcurrency` for a target as a whole: `limit` slots, each a KV entry taken by
 * compare-and-set for one attempt and deleted (compare-and-delete) when it ends. A held slot is
 * renewed while its attempt runs, so a worker that dies frees its slots within 3 renewals. Each
 * worker watches the slots, and a freed one wakes its waiters. Should NATS be unreachable, attempts
 * wait (a limit that cannot be checked is not lifted).
 */
export class SharedConcurrency {
  private readonly slots = new Map<number, { revision: number; slot: StoredSlot }>();
  private readonly changes = new ChangeSignal();
  private watcher: { stop(): void } | undefined;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly renewMs: number;

  constructor(private readonly options: SharedConcurrencyOptions) {
    this.clock = options.clock ?? systemClock;
    this.prefix = `slots.${options.target}`;
    this.renewMs = options.renewMs ?? 10_000;
  }

  private readonly watch = startedOnce(() => this.startWatch());

  private async startWatch(): Promise<void> {
    const iterator = await this.options.kv.watch({ key: `${this.prefix}.>` });
    this.watcher = iterator;
    void (async () => {
      for await (const entry of iterator) {
        const index = Number(entry.key.slice(this.prefix.length + 1));
        if (entry.operation === 'PUT')
          this.slots.set(index, { revision: entry.revision, slot: entry.json() });
        else this.slots.delete(index);
        this.changes.notify();
      }
    })().catch((err: unknown) => this.options.logger.warn({ err }, 'concurrency slots watch ended'));
  }

  stop(): void {
    this.watcher?.stop();
    this.changes.notify();
  }

  /**
   * A slot for one attempt, or undefined when the target has no limit.
   * @throws DeliveryAbortedError when `stopping` aborts while waiting
   */
  async acquire(stopping: AbortSignal): Promise<HeldSlot | undefined> {
    for (;;) {
      if (stopping.aborted) throw new DeliveryAbortedError();
      const limit = this.options.limit();
      if (limit === undefined) return undefined;
      await this.watch();
      const now = this.clock.now();
      const offset = Math.floor(Math.random() * limit);
      for (let j = 0; j < limit; j++) {
        const index = (offset + j) % limit;
        const seen = this.slots.get(index);
        if (seen && seen.slot.until > now) continue;
        const held = await this.take(index, seen?.revision);
        if (held) return held;
      }
      await this.changes.wait(250, stopping);
    }
  }

  private async take(index: number, revision: number | undefined): Promise<HeldSlot | undefined> {
    const kv = this.options.kv;
    const key = `${this.prefix}.${index}`;
    const value = () =>
      JSON.stringify({ member: this.options.memberId, until: this.clock.now() + 3 * this.renewMs });
    let current: number;
    try {
      current =
        revision === undefined ? await kv.create(key, value()) : await kv.update(key, value(), revision);
    } catch {
      return undefined; // taken by another attempt first
    }
    const renewal = setInterval(() => {
      kv.update(key, value(), current).then(
        (next) => {
          current = next;
        },
        (err: unknown) => this.options.logger.debug({ err, key }, 'cannot renew a concurrency slot'),
      );
    }, this.renewMs);
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        await kv.delete(key, { previousSeq: current }).catch(() => {
          // Lapsed and taken by another worker, or NATS away: the entry lapses on its own.
        });
      },
    };
  }
}
