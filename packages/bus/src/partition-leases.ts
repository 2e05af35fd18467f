import { randomUUID } from 'node:crypto';
import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from './compare-and-swap.js';
import { GroupMembers } from './group-members.js';
import { HeldLease, type LeaseFence, monotonicNow } from './lease-fence.js';
import { whileUnavailable } from './while-unavailable.js';

/** What the owner of partitions does when it gains or must give one up. */
export interface PartitionOwner {
  /**
   * This member now owns `partition`: start consuming it, checking `fence` before each attempt
   * and each ack (see LeaseFence).
   */
  acquired(partition: number, fence: LeaseFence): void | Promise<void>;
  /**
   * Stop consuming `partition` and finish in-flight work: the fence lets running work settle
   * until this resolves (or the lease can no longer be confirmed); the lease is deleted after.
   */
  released(partition: number): Promise<void>;
}

export interface PartitionLeasesOptions {
  /** Members of one group share its partitions (e.g. `router`, `dispatch.billing`). */
  group: string;
  partitions: number;
  owner: PartitionOwner;
  logger: Logger;
  memberId?: string;
  /** A lease not renewed for this long expires and another member may take it. */
  ttlMs: number;
}

/**
 * The lease TTL every Fuze service uses: they share one bucket, and a KV bucket keeps the TTL
 * it was created with. A dead owner's partitions move after about this long.
 */
export const leaseTtlMs = 5_000;

/** A lease's fence closes this far into its TTL without a confirmed renewal (see HeldLease). */
const safeFraction = 3 / 4;

/**
 * Spreads a group's partitions over its live members, one owner per partition at a time
 * (NATS 2.9 has no pinned consumers). Members heartbeat into a KV bucket whose TTL drops the
 * keys of members that died, and follow each other's heartbeats with one watch; each member takes
 * its fair share (partitions / members, exactly balanced) with create-if-absent, renews all its
 * leases at once with compare-and-swap each round, and hands extras over when members join.
 *
 * Safety (fencing): the owner checks the lease's fence before each attempt and each ack. The
 * fence closes 3/4 of a TTL after the last renewal this member *sent* and saw confirmed, by the
 * clock alone, so an owner that was paused or starved stops acting before the bucket can let
 * another member take the partition: the next owner's first action comes at least a quarter of
 * a TTL after the old owner's last one. The lease's creation revision is a fencing token that
 * only grows from one owner to the next.
 */
export class PartitionLeases {
  readonly memberId: string;
  private readonly leases = new Map<number, HeldLease>();
  private readonly releases = new Set<Promise<void>>();
  private readonly members: GroupMembers;
  private timer: NodeJS.Timeout | undefined;
  private tickRunning: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly options: PartitionLeasesOptions,
  ) {
    this.memberId = options.memberId ?? randomUUID();
    this.members = new GroupMembers(kv, `member.${options.group}.`, options.ttlMs);
  }

  /** Partitions this member owns now (not counting those it is handing over). */
  ownedPartitions(): number[] {
    return [...this.leases.values()]
      .filter((lease) => lease.state === 'held')
      .map((lease) => lease.partition)
      .sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    await whileUnavailable(
      'joining a lease group',
      () => this.kv.put(this.memberKey(), String(Date.now())),
      logger,
    );
    await whileUnavailable('watching a lease group', () => this.members.start(), logger);
    await this.tick();
    this.timer = setInterval(
      () => {
        this.tickRunning ??= this.tick().finally(() => {
          this.tickRunning = undefined;
        });
      },
      Math.max(100, Math.floor(this.options.ttlMs / 4)),
    );
  }

  /** Gives every partition back (after the owner drained it) and leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.tickRunning;
    for (const partition of this.ownedPartitions()) this.release(partition);
    // Keep renewing what is being drained, so a long drain keeps its fence open.
    const renewing = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.options.ttlMs / 4)));
    try {
      while (this.releases.size > 0) await Promise.all(this.releases);
    } finally {
      clearInterval(renewing);
    }
    this.members.stop();
    await this.kv.delete(this.memberKey()).catch(() => {});
  }

  private memberKey(member = this.memberId): string {
    return `member.${this.options.group}.${member}`;
  }

  private leaseKey(partition: number): string {
    return `lease.${this.options.group}.${partition}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.kv.put(this.memberKey(), String(Date.now()));
      await this.renew();
      const fairShare = this.fairShare(this.members.live(this.memberId));
      const owned = this.ownedPartitions();
      // Hand over the extras (most recently numbered first): the owner drains them meanwhile.
      for (const partition of owned.slice(fairShare).reverse()) this.release(partition);
      if (owned.length < fairShare) await this.acquire(fairShare - owned.length);
    } catch (err) {
      this.options.logger.warn(
        { err, group: this.options.group },
        'partition lease round failed; will retry',
      );
    }
    this.fenceUnconfirmed();
  }

  /** Exact balance: floor(P/n) each, one more for the first P mod n members (by id). */
  private fairShare(members: string[]): number {
    const { partitions } = this.options;
    const index = members.indexOf(this.memberId);
    return Math.floor(partitions / members.length) + (index < partitions % members.length ? 1 : 0);
  }

  /** Renews every lease at once (held and draining): one round trip per round, whatever the count. */
  private async renew(): Promise<void> {
    await Promise.all(
      [...this.leases.values()]
        .filter((lease) => lease.state !== 'ended')
        .map((lease) => this.renewOne(lease)),
    );
  }

  private async renewOne(lease: HeldLease): Promise<void> {
    const sentAt = monotonicNow();
    try {
      lease.revision = await this.kv.update(this.leaseKey(lease.partition), this.memberId, lease.revision);
      lease.confirmedAt = sentAt;
    } catch (err) {
      if (!isWrongLastSequence(err)) return; // NATS slow or away: the fence closes if it lasts
      // A renewal that timed out may have landed: if the lease still names us, it is ours.
      const entry = await this.kv.get(this.leaseKey(lease.partition)).catch(() => null);
      if (entry?.operation === 'PUT' && entry.string() === this.memberId && entry.revision > lease.revision) {
        lease.revision = entry.revision;
        return;
      }
      this.options.logger.warn(
        { partition: lease.partition, group: this.options.group, token: lease.token },
        'lost a partition lease: another member holds it',
      );
      lease.state = 'ended';
      this.release(lease.partition);
    }
  }

  /** Tries to take `wanted` more partitions among those nobody holds, a batch at a time. */
  private async acquire(wanted: number): Promise<void> {
    const candidates = shuffled(Array.from({ length: this.options.partitions }, (_, p) => p)).filter(
      (p) => !this.leases.has(p),
    );
    while (wanted > 0 && candidates.length > 0 && !this.stopped) {
      const batch = candidates.splice(0, wanted);
      const taken = await Promise.all(batch.map((partition) => this.tryCreate(partition)));
      for (const lease of taken) {
        if (!lease || this.stopped) continue;
        if (this.leases.has(lease.partition)) continue;
        this.leases.set(lease.partition, lease);
        wanted -= 1;
        this.options.logger.debug(
          { group: this.options.group, partition: lease.partition, token: lease.token },
          'acquired a partition lease',
        );
        await this.options.owner.acquired(lease.partition, lease);
      }
    }
  }

  private async tryCreate(partition: number): Promise<HeldLease | undefined> {
    const sentAt = monotonicNow();
    try {
      const revision = await this.kv.create(this.leaseKey(partition), this.memberId);
      return new HeldLease(partition, revision, revision, sentAt, this.options.ttlMs * safeFraction);
    } catch {
      return undefined; // someone holds it (or NATS did not answer: try again next round)
    }
  }

  /**
   * Hands a partition over: the owner drains it while its lease is still renewed (the fence lets
   * running work settle), then the lease is deleted, if it is still ours, for the next owner.
   */
  private release(partition: number): void {
    const lease = this.leases.get(partition);
    if (!lease || lease.handover) return;
    if (lease.state === 'held') lease.state = 'draining';
    this.options.logger.debug({ group: this.options.group, partition }, 'handing a partition over');
    const done = (async () => {
      try {
        await this.options.owner.released(partition);
      } catch (err) {
        this.options.logger.error(
          { err, partition, group: this.options.group },
          'releasing a partition failed',
        );
      }
      const wasOurs = lease.state !== 'ended';
      lease.state = 'ended';
      this.leases.delete(partition);
      if (wasOurs)
        await this.kv.delete(this.leaseKey(partition), { previousSeq: lease.revision }).catch(() => {});
    })();
    lease.handover = done;
    this.releases.add(done);
    void done.finally(() => this.releases.delete(done));
  }

  /** Leases not confirmed within the safe window are fenced already: hand them over. */
  private fenceUnconfirmed(): void {
    for (const lease of this.leases.values()) {
      if (lease.state === 'held' && !lease.confirmed()) {
        this.options.logger.warn(
          { partition: lease.partition, group: this.options.group },
          'lease renewals stalled; the partition is fenced and stops',
        );
        this.release(lease.partition);
      }
    }
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
