import { RecentSet } from './recent-set.js';

/** How long this worker keeps a partition's acked sequences after giving the partition up. */
const keptForMs = 60_000;
/** Acked messages remembered per partition. */
const capacity = 8_192;

/**
 * What this worker acked on one partition, by stream sequence and by delivery id (the delivery's
 * `Nats-Msg-Id`: one per event, rule and target). The sequence catches a message the server hands
 * out again after forgetting its ack; the id catches the same delivery stored again under a new
 * sequence: a router re-routes the events its last checkpoint did not cover after a nats-server
 * kill -9, and a delivery already consumed from the work-queue stream is no longer there for the
 * server's dedupe to match (ADR 0006), so it would reach the target again after newer events of
 * its key. An id counts only within the delivery stream's dedupe window: a copy the server would
 * have deduped had it still held the message; a later one is published anew, and delivered.
 */
export class AckedMessages {
  private readonly sequences: RecentSet<number>;
  private readonly ids: RecentSet<string>;

  constructor(
    private readonly dedupeWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sequences = new RecentSet<number>(capacity, now);
    this.ids = new RecentSet<string>(capacity, now);
  }

  add(sequence: number, deliveryId: string | undefined): void {
    this.sequences.add(sequence);
    if (deliveryId) this.ids.add(deliveryId);
  }

  has(sequence: number, deliveryId: string | undefined): boolean {
    if (this.sequences.has(sequence)) return true;
    const ackedAt = deliveryId ? this.ids.addedAt(deliveryId) : undefined;
    return ackedAt !== undefined && this.now() - ackedAt < this.dedupeWindowMs;
  }
}

/**
 * What this worker acked, per partition (AckedMessages), kept across its sessions and across
 * its leases of the partition: a partition it gives up and takes back within a minute (a stall
 * and a take-back, a restarted nats-server) starts with what it acked before. A message the
 * server hands out again after forgetting its ack (nats-server 2.9 killed -9, see LostAckRepair)
 * is then acked again instead of being delivered a second time, after newer events of its key.
 */
export class AckedByPartition {
  private readonly partitions = new Map<
    number | 'unordered',
    { acked: AckedMessages; releasedAt: number | undefined }
  >();

  constructor(
    /** The delivery stream's dedupe window (see AckedMessages); 0: ids are not matched. */
    private readonly dedupeWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** What this worker acked on the partition: the same record when it held it within the last minute. */
  acquired(partition: number | 'unordered'): AckedMessages {
    this.forgetOld();
    let entry = this.partitions.get(partition);
    if (!entry) {
      entry = { acked: new AckedMessages(this.dedupeWindowMs, this.now), releasedAt: undefined };
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
