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
   * The fencing token: the owner bucket's revision at which this member took the partition. A
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

/** Whether this member's liveness was confirmed recently enough to act (see MemberHeartbeat). */
export interface LivenessConfirmation {
  confirmed(): boolean;
}

/**
 * One lease this member holds. The lease itself is an owner key that is never renewed; what
 * keeps it is the member's heartbeat, so the fence is open while that heartbeat is confirmed
 * (MemberHeartbeat: it closes 3/4 of a TTL after the last renewal this member sent and saw
 * confirmed, a quarter of a TTL before another member may declare it gone and take the key).
 */
export class HeldLease implements LeaseFence {
  state: LeaseState = 'held';
  /** Set once the partition is being handed over: resolves when the owner drained it. */
  handover: Promise<void> | undefined;

  constructor(
    readonly partition: number,
    readonly token: number,
    /** The owner key's revision: what a hand-over deletes against (compare-and-swap). */
    public revision: number,
    private readonly liveness: LivenessConfirmation,
  ) {}

  confirmed(): boolean {
    return this.liveness.confirmed();
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
