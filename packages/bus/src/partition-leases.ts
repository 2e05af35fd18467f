import { randomUUID } from 'node:crypto';
import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** What the owner of partitions does when it gains or must give one up. */
export interface PartitionOwner {
  /** This member now owns `partition`: start consuming it. */
  acquired(partition: number): void | Promise<void>;
  /** Stop consuming `partition` and finish in-flight work; the lease is released afterwards. */
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

/** The KV bucket holding leases and member heartbeats; its TTL is the lease TTL. */
export async function openLeaseBucket(
  nc: NatsConnection,
  prefix: string,
  ttlMs: number = leaseTtlMs,
): Promise<KV> {
  return new Kvm(nc).create(`${prefix}_LEASES`, { ttl: ttlMs, history: 1 });
}

/**
 * Spreads a group's partitions over its live members, one owner per partition at a time
 * (NATS 2.9 has no pinned consumers). Members heartbeat into a KV bucket whose TTL drops the
 * keys of members that died; each member takes its fair share (partitions / members, exactly balanced) with
 * create-if-absent, renews with compare-and-swap, and gives extras back when members join.
 *
 * Safety: a member stops using a partition before its lease can have expired (it self-fences
 * when renewals stall for 3/4 of the TTL), so two members never consume one partition at once
 * unless a process stalls longer than that (e.g. a multi-second GC pause).
 */
export class PartitionLeases {
  readonly memberId: string;
  private readonly owned = new Map<number, { revision: number; renewedAt: number }>();
  /** Partitions whose owner is still draining them: not to be taken again until it is done. */
  private readonly releasing = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private tickRunning: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly options: PartitionLeasesOptions,
  ) {
    this.memberId = options.memberId ?? randomUUID();
  }

  /** Partitions this member owns now. */
  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
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
    for (const partition of this.ownedPartitions()) await this.release(partition, true);
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
      const fairShare = this.fairShare(await this.liveMembers());
      await this.renew();
      for (const partition of this.ownedPartitions().slice(fairShare).reverse())
        await this.release(partition, true);
      if (this.owned.size < fairShare) await this.acquire(fairShare);
    } catch (err) {
      this.options.logger.warn(
        { err, group: this.options.group },
        'partition lease round failed; will retry',
      );
    }
    this.selfFence();
  }

  private async liveMembers(): Promise<string[]> {
    const prefix = `member.${this.options.group}.`;
    const members: string[] = [];
    for await (const key of await this.kv.keys(`${prefix}*`)) members.push(key.slice(prefix.length));
    if (!members.includes(this.memberId)) members.push(this.memberId);
    return members.sort();
  }

  /** Exact balance: floor(P/n) each, one more for the first P mod n members (by id). */
  private fairShare(members: string[]): number {
    const { partitions } = this.options;
    const index = members.indexOf(this.memberId);
    return Math.floor(partitions / members.length) + (index < partitions % members.length ? 1 : 0);
  }

  private async renew(): Promise<void> {
    for (const [partition, lease] of this.owned) {
      try {
        lease.revision = await this.kv.update(this.leaseKey(partition), this.memberId, lease.revision);
        lease.renewedAt = Date.now();
      } catch (err) {
        this.options.logger.warn({ err, partition, group: this.options.group }, 'lost a partition lease');
        await this.release(partition, false);
      }
    }
  }

  private async acquire(fairShare: number): Promise<void> {
    const candidates = shuffled(Array.from({ length: this.options.partitions }, (_, p) => p)).filter(
      (p) => !this.owned.has(p) && !this.releasing.has(p),
    );
    for (const partition of candidates) {
      if (this.owned.size >= fairShare || this.stopped) return;
      let revision: number;
      try {
        revision = await this.kv.create(this.leaseKey(partition), this.memberId);
      } catch {
        continue; // someone owns it
      }
      this.owned.set(partition, { revision, renewedAt: Date.now() });
      await this.options.owner.acquired(partition);
    }
  }

  private async release(partition: number, deleteLease: boolean): Promise<void> {
    const lease = this.owned.get(partition);
    if (!lease) return;
    this.owned.delete(partition);
    this.releasing.add(partition);
    try {
      await this.options.owner.released(partition);
      if (deleteLease) {
        await this.kv.delete(this.leaseKey(partition), { previousSeq: lease.revision }).catch(() => {});
      }
    } finally {
      this.releasing.delete(partition);
    }
  }

  /** Stop using partitions whose lease could expire before we renew it (NATS unreachable). */
  private selfFence(): void {
    const limit = Date.now() - (this.options.ttlMs * 3) / 4;
    for (const [partition, lease] of this.owned) {
      if (lease.renewedAt < limit) {
        this.options.logger.warn(
          { partition, group: this.options.group },
          'lease renewals stalled; stopping the partition',
        );
        void this.release(partition, false);
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
