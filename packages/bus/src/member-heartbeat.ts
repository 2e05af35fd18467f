import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from './compare-and-swap.js';
import { type LivenessConfirmation, monotonicNow } from './lease-fence.js';

/**
 * A live member's heartbeat value: `live` and the partitions it holds (`live 3,17,250`), so that
 * every member learns who owns what from the one watch it keeps anyway, without a watch on the
 * owner keys (at 50 members and 10,000 partitions that watch cost each process 500,000 entries
 * whenever the group formed). Members of the earlier protocol wrote a bare timestamp.
 */
export const liveHeartbeat = 'live';

export function heartbeatValue(partitions: readonly number[]): string {
  return partitions.length === 0 ? liveHeartbeat : `${liveHeartbeat} ${partitions.join(',')}`;
}

/** The partitions a live heartbeat names, or undefined when the value is not a live heartbeat. */
export function heldPartitions(value: string): number[] | undefined {
  if (value === liveHeartbeat) return [];
  if (!value.startsWith(`${liveHeartbeat} `)) return undefined;
  return value
    .slice(liveHeartbeat.length + 1)
    .split(',')
    .map(Number);
}

/** Written by a member that found another's heartbeat expired: that member id is dead for good. */
export const goneHeartbeat = 'gone';

export type RenewalOutcome = 'renewed' | 'unanswered' | 'lapsed';

/**
 * This member's heartbeat key in the lease bucket (whose TTL drops it when it is not renewed).
 * It is the one write a member makes per lease round, whatever the number of partitions it owns:
 * every lease the member holds is valid exactly while this key lives.
 *
 * Renewals compare-and-swap on the key's revision, so a member whose key expired (and that
 * another member may then have marked gone, see GroupMembers.confirmGone) learns it at its next
 * renewal instead of silently writing itself back to life: a lapsed id never comes back, the
 * member rejoins under a new one.
 */
export class MemberHeartbeat implements LivenessConfirmation {
  private revision = 0;
  /** When the last renewal the bucket confirmed was sent (monotonic ms). */
  private confirmedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly kv: KV,
    readonly key: string,
    /** The fence closes this long after the last confirmed renewal was sent: 3/4 of the TTL. */
    private readonly safeMs: number,
  ) {}

  /** Writes the key for a new member id (which nobody else may have used). */
  async create(): Promise<void> {
    const sentAt = monotonicNow();
    this.revision = await this.kv.create(this.key, heartbeatValue([]));
    this.confirmedAt = sentAt;
  }

  /**
   * `confirmedAt` is taken before sending: the bucket's TTL runs from when it stored the write,
   * which is later, so the key cannot expire before `confirmedAt + TTL`, and the fence closes a
   * quarter of a TTL before that.
   */
  async renew(holding: readonly number[]): Promise<RenewalOutcome> {
    const sentAt = monotonicNow();
    try {
      this.revision = await this.kv.update(this.key, heartbeatValue(holding), this.revision);
      this.confirmedAt = sentAt;
      return 'renewed';
    } catch (err) {
      if (!isWrongLastSequence(err)) return 'unanswered'; // NATS slow or away: the fence closes if it lasts
      // A renewal that timed out may have landed: only this member writes `live ...` to its key.
      const entry = await this.kv.get(this.key).catch(() => null);
      if (entry?.operation === 'PUT' && heldPartitions(entry.string()) && entry.revision > this.revision) {
        this.revision = entry.revision;
        return 'unanswered';
      }
      return 'lapsed';
    }
  }

  confirmed(): boolean {
    return monotonicNow() - this.confirmedAt < this.safeMs;
  }

  /** Leaves the group: the key goes, so other members may take this member's leases at once. */
  async remove(): Promise<void> {
    await this.kv.delete(this.key, { previousSeq: this.revision }).catch(() => {});
  }
}
