import { type Clock, type Logger, systemClock } from '@fuze/core';
import type { CircuitBreakerPolicy } from '@fuze/rules';
import type { KV } from '@nats-io/kv';
import { ChangeSignal } from './change-signal.js';
import { DeliveryAbortedError } from './errors.js';
import { startedOnce } from './started-once.js';

/** A breaker's shared state, as stored in the flow bucket (`breaker.<target>`). */
export type BreakerState =
  | { state: 'closed'; failures: number; windowStart: number }
  | { state: 'open'; until: number }
  | { state: 'half-open'; prober: string; since: number };

const closed: BreakerState = { state: 'closed', failures: 0, windowStart: 0 };

export interface CircuitBreakerOptions {
  /** The flow bucket (`openFlowBucket`), shared by every worker of the target. */
  kv: KV;
  target: string;
  /** This worker, as the prober it names in a half-open state. */
  memberId: string;
  /** The target's current policy; undefined: the target has no breaker (attempts pass). */
  policy(): CircuitBreakerPolicy | undefined;
  /** Called with each state this worker learns (metrics). */
  onState?(state: BreakerState['state']): void;
  clock?: Clock;
  logger: Logger;
}

/**
 * One target's circuit breaker, shared by every worker of the target through one KV entry that
 * each worker watches and changes only by compare-and-set:
 * - closed: attempts pass; each retryable failure counts in the current window, and the
 *   `failures`-th within `window` opens it;
 * - open: attempts wait (they are not made, so they spend no attempt and never dead-letter
 *   because of it) until `openFor` has passed;
 * - half-open: one worker wins the probe (CAS); its attempt's success closes the breaker, its
 *   retryable failure opens it again. A prober that dies is replaced after `openFor`.
 * Each ordered key keeps its place while it waits, so per-key order holds. Should the bucket be
 * unreachable, failures go uncounted and attempts pass: a breaker never stops delivery on its own.
 */
export class CircuitBreaker {
  private current: BreakerState = closed;
  private revision = 0;
  private readonly changes = new ChangeSignal();
  private watcher: { stop(): void } | undefined;
  private readonly clock: Clock;
  private readonly key: string;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.clock = options.clock ?? systemClock;
    this.key = `breaker.${options.target}`;
  }

  get state(): BreakerState {
    return this.current;
  }

  private readonly watch = startedOnce(() => this.startWatch());

  private async startWatch(): Promise<void> {
    const iterator = await this.options.kv.watch({ key: this.key });
    this.watcher = iterator;
    void (async () => {
      for await (const entry of iterator) {
        if (entry.revision < this.revision) continue;
        this.learn(entry.operation === 'PUT' ? (entry.json() as BreakerState) : closed, entry.revision);
      }
    })().catch((err: unknown) => this.options.logger.warn({ err }, 'circuit breaker watch ended'));
    // The watch delivers the stored state later: read it now, so that a worker joining while the
    // breaker is open does not take its first attempt for closed.
    const entry = await this.options.kv.get(this.key);
    if (entry && entry.revision >= this.revision)
      this.learn(entry.operation === 'PUT' ? (entry.json() as BreakerState) : closed, entry.revision);
  }

  stop(): void {
    this.watcher?.stop();
    this.changes.notify();
  }

  /**
   * Resolves when an attempt may start: `probe` when it is the half-open breaker's one probe.
   * @throws DeliveryAbortedError when `stopping` aborts while waiting
   */
  async admit(stopping: AbortSignal): Promise<'attempt' | 'probe'> {
    for (;;) {
      if (stopping.aborted) throw new DeliveryAbortedError();
      const policy = this.options.policy();
      if (!policy) return 'attempt';
      await this.watch();
      const s = this.current;
      if (s.state === 'closed') return 'attempt';
      const now = this.clock.now();
      if (s.state === 'open' && now < s.until) {
        await this.changes.wait(s.until - now, stopping);
        continue;
      }
      const probeOver = s.state === 'half-open' && now - s.since >= policy.openForMs;
      if (s.state === 'open' || probeOver) {
        if (await this.write({ state: 'half-open', prober: this.options.memberId, since: now }))
          return 'probe';
        continue;
      }
      if (s.state === 'half-open') await this.changes.wait(policy.openForMs - (now - s.since), stopping);
    }
  }

  /** A retryable failure: counted while closed; a failed probe opens the breaker again. */
  async failed(probe: boolean): Promise<void> {
    const policy = this.options.policy();
    if (!policy) return;
    await this.watch().catch(() => {});
    for (let tries = 0; tries < 5; tries++) {
      const s = this.current;
      const now = this.clock.now();
      let next: BreakerState;
      if (probe) {
        if (s.state !== 'half-open' || s.prober !== this.options.memberId) return;
        next = { state: 'open', until: now + policy.openForMs };
      } else {
        if (s.state !== 'closed') return;
        const inWindow = now - s.windowStart < policy.windowMs;
        const failures = inWindow ? s.failures + 1 : 1;
        next =
          failures >= policy.failures
            ? { state: 'open', until: now + policy.openForMs }
            : { state: 'closed', failures, windowStart: inWindow ? s.windowStart : now };
      }
      if (await this.write(next)) {
        if (next.state === 'open')
          this.options.logger.warn(
            { target: this.options.target, openForMs: policy.openForMs, probe },
            probe
              ? 'circuit breaker probe failed; open again'
              : `circuit breaker open after ${policy.failures} failures within ${policy.windowMs} ms; deliveries wait`,
          );
        return;
      }
    }
  }

  /** A success: the probe's closes the breaker. */
  async succeeded(probe: boolean): Promise<void> {
    if (!probe) return;
    for (let tries = 0; tries < 5; tries++) {
      const s = this.current;
      if (s.state !== 'half-open' || s.prober !== this.options.memberId) return;
      if (await this.write({ state: 'closed', failures: 0, windowStart: this.clock.now() })) {
        this.options.logger.info({ target: this.options.target }, 'circuit breaker probe succeeded; closed');
        return;
      }
    }
  }

  /** Compare-and-set from the state last seen; false when another worker changed it first (or NATS is away). */
  private async write(next: BreakerState): Promise<boolean> {
    const kv = this.options.kv;
    const value = JSON.stringify(next);
    try {
      const revision =
        this.revision === 0
          ? await kv.create(this.key, value)
          : await kv.update(this.key, value, this.revision);
      this.learn(next, revision);
      return true;
    } catch (err) {
      try {
        const entry = await kv.get(this.key);
        if (entry && entry.revision >= this.revision)
          this.learn(entry.operation === 'PUT' ? (entry.json() as BreakerState) : closed, entry.revision);
      } catch {
        this.options.logger.debug({ err }, 'circuit breaker state unreachable');
      }
      return false;
    }
  }

  private learn(state: BreakerState, revision: number): void {
    const before = this.current.state;
    this.current = state;
    this.revision = revision;
    if (state.state !== before) this.options.onState?.(state.state);
    this.changes.notify();
  }
}
