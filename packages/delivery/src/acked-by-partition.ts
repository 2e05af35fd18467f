import { RecentSet } from './recent-set.js';

/** How long this worker keeps a partition's acked sequences after giving the partition up. */
const keptForMs = 60_000;
/** Acked stream sequences remembered per partition. */
const capacity = 8_192;

/**
 * The stream sequences this worker acked, per partition, kept across its sessions and across
 * its leases of the partition: a partition it gives up and takes back within a minute (a stall
 * and a take-back, a restarted nats-server) starts with what it acked before. A message the
 * server hands out again after forgetting its ack (nats-server 2.9 killed -9, see LostAckRepair)
 * is then acked again instead of being delivered a second time, after newer events of its key.
 */
export class AckedByPartition {
  private readonly partitions = new Map<
    number | 'unordered',
    { acked: RecentSet<number>; releasedAt: number | undefined }
  >();

  constructor(private readonly now: () => number = Date.now) {}

  /** The partition's acked sequences: the same set when this worker held it within the last minute. */
  acquired(partition: number | 'unordered'): RecentSet<number> {
    this.forgetOld();
    let entry = this.partitions.get(partition);
    if (!entry) {
      entry = { acked: new RecentSet<number>(capacity), releasedAt: undefined };
      this.partitions.set(partition, entry);
    }
    entry.releasedAt = undefined;
    return entry.acked;
  }

  released(partition: number | 'unordered'): void {
    const entry = this.partitions.get(partition);
    if (entry) entry.releasedAt = this.now();
  }

  private forgetOld(): void {
    const oldest = this.now() - keptForMs;
    for (const [partition, entry] of this.partitions)
      if (entry.releasedAt !== undefined && entry.releasedAt < oldest) this.partitions.delete(partition);
  }
}
