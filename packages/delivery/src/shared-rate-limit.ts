import { type Clock, type Logger, systemClock } from '@fuze/core';
import type { RateLimitPolicy } from '@fuze/rules';
import type { KV } from '@nats-io/kv';
import { DeliveryAbortedError } from './errors.js';

/**
 * The bucket as stored in the flow bucket (`rate.<target>`): tokens left at a time (epoch ms, by
 * the clock given: a `ServerClock`, so that every worker reads the same one).
 */
interface StoredBucket {
  tokens: number;
  at: number;
}

export interface SharedRateLimitOptions {
  /** The flow bucket (`openFlowBucket`), shared by every worker of the target. */
  kv: KV;
  target: string;
  /** The target's current limit; undefined: unlimited (attempts pass). */
  policy(): RateLimitPolicy | undefined;
  /** Every worker of the target must read the same clock: give a `ServerClock`. */
  clock?: Clock;
  logger: Logger;
}

/**
 * A target's rate limit across every worker: one token bucket (`perSecond`, `burst`) in a KV
 * entry, taken from by compare-and-set. Each worker takes a small chunk at a time (1/50th of a
 * second's worth, at least one token) and starts one attempt per token, so the target sees at
 * most `burst` + `perSecond` x t attempts over any t seconds, plus the chunks the workers hold.
 * Tokens a worker took but did not use are lost, never lent: the limit errs low. The refill is
 * timed by the clock given, which TargetConsumer makes the NATS server's (`ServerClock`), so
 * workers whose own clocks disagree still share one bucket; the bucket's time only moves forward,
 * so what error is left in their clocks is never counted as refill twice. Should NATS be
 * unreachable, attempts wait (a limit that cannot be checked is not lifted).
 */
export class SharedRateLimit {
  private stash = 0;
  private refilling: Promise<number> | undefined;
  private readonly clock: Clock;
  private readonly key: string;

  constructor(private readonly options: SharedRateLimitOptions) {
    this.clock = options.clock ?? systemClock;
    this.key = `rate.${options.target}`;
  }

  /**
   * Resolves once this attempt may start (a token taken).
   * @throws DeliveryAbortedError when `stopping` aborts while waiting
   */
  async take(stopping: AbortSignal): Promise<void> {
    for (;;) {
      if (stopping.aborted) throw new DeliveryAbortedError();
      const policy = this.options.policy();
      if (!policy) return;
      if (this.stash > 0) {
        this.stash -= 1;
        return;
      }
      this.refilling ??= this.refill(policy).finally(() => {
        this.refilling = undefined;
      });
      const waitMs = await this.refilling;
      if (waitMs > 0 && !(await this.clock.sleep(waitMs, stopping))) throw new DeliveryAbortedError();
    }
  }

  /** Takes a chunk of tokens into the stash: 0, or how long to wait before the next token. */
  private async refill(policy: RateLimitPolicy): Promise<number> {
    const kv = this.options.kv;
    const chunk = Math.max(1, Math.floor(policy.perSecond / 50));
    for (let tries = 0; tries < 10; tries++) {
      try {
        const entry = await kv.get(this.key);
        const now = this.clock.now();
        const stored = entry?.operation === 'PUT' ? (entry.json() as StoredBucket) : undefined;
        const elapsed = stored ? Math.max(0, now - stored.at) : 0;
        const tokens = stored
          ? Math.min(policy.burst, stored.tokens + (elapsed * policy.perSecond) / 1000)
          : policy.burst;
        const taken = Math.min(chunk, Math.floor(tokens));
        if (taken === 0) return Math.max(1, Math.ceil(((1 - tokens) * 1000) / policy.perSecond));
        // The bucket's time never goes back. Two workers' clocks agree only to a few ms (the
        // ServerClock's error); were a worker behind to write its earlier time, the next worker
        // would count that gap again as refill, at every hand-over: the limit would leak.
        const at = stored ? Math.max(now, stored.at) : now;
        const next = JSON.stringify({ tokens: tokens - taken, at } satisfies StoredBucket);
        if (entry) await kv.update(this.key, next, entry.revision);
        else await kv.create(this.key, next);
        this.stash += taken;
        return 0;
      } catch (err) {
        // Another worker took first (compare-and-set), or NATS is away: read and try again.
        this.options.logger.debug({ err, target: this.options.target }, 'rate limit bucket busy; retrying');
      }
    }
    return 50;
  }
}
