import { performance } from 'node:perf_hooks';

/**
 * What the holder of a partition's lease checks before acting on the partition: before each
 * attempt (`mayStart`) and before each ack or dead-letter (`maySettle`). Both are synchronous
 * and read only the clock, so a process that resumes after a pause (SIGSTOP, a long GC, a
 * starved event loop) sees at once that it can no longer confirm its lease, before any timer of
 * its own runs.
 */
export interface LeaseFence {
  /**
   * The fencing token: the lease bucket's revision at which this member took the partition. A
   * later owner of the same partition always holds a greater one (one bucket, one sequence).
   */
  readonly token: number;
  /** May new work start on the partition now? Held, and confirmed recently enough. */
  mayStart(): boolean;
  /** May work be settled (acked, dead-lettered)? Also while the partition is being handed over. */
  maySettle(): boolean;
}

/** A fence that never closes: the unordered subject, which any worker may consume. */
export const openFence: LeaseFence = Object.freeze({
  token: 0,
  mayStart: () => true,
  maySettle: () => true,
});

export type LeaseState = 'held' | 'draining' | 'ended';

/**
 * One lease this member holds. `confirmedAt` is taken *before* sending the create or update that
 * the bucket then acknowledged: the bucket's TTL runs from when it stored the write, which is
 * later, so the lease cannot expire before `confirmedAt + ttl`. The fence closes at
 * `confirmedAt + safeMs` (3/4 of the TTL), leaving a quarter of the TTL between the last action
 * the old owner may take and the first the next owner can.
 */
export class HeldLease implements LeaseFence {
  state: LeaseState = 'held';
  /** Set once the partition is being handed over: resolves when the owner drained it. */
  handover: Promise<void> | undefined;

  constructor(
    readonly partition: number,
    readonly token: number,
    /** The revision to compare-and-swap the next renewal against. */
    public revision: number,
    public confirmedAt: number,
    private readonly safeMs: number,
  ) {}

  confirmed(): boolean {
    return monotonicNow() - this.confirmedAt < this.safeMs;
  }

  mayStart(): boolean {
    return this.state === 'held' && this.confirmed();
  }

  maySettle(): boolean {
    return this.state !== 'ended' && this.confirmed();
  }
}

export function monotonicNow(): number {
  return performance.now();
}
