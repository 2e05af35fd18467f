import { randomUUID } from 'node:crypto';
import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from './compare-and-swap.js';
import { GroupMembers } from './group-members.js';
import { HeldLease, type LeaseFence, monotonicNow } from './lease-fence.js';
import { MemberHeartbeat } from './member-heartbeat.js';
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

/** The two buckets leases live in (openLeaseBuckets). */
export interface LeaseBuckets {
  /** Member heartbeats; the bucket's TTL drops a member that stops renewing. */
  heartbeats: KV;
  /** One key per partition naming its owner; no TTL, never renewed. */
  owners: KV;
}

export interface PartitionLeasesOptions {
  /** Members of one group share its partitions (e.g. `router`, `dispatch.billing`). */
  group: string;
  partitions: number;
  owner: PartitionOwner;
  logger: Logger;
  /** Names this member in logs and keys: each join (and rejoin after a lapse) adds a unique suffix. */
  memberName?: string;
  /** A member not heard from for this long is dead and its partitions may be taken. */
  ttlMs: number;
}

/**
 * The lease TTL every Fuze service uses: they share one bucket, and a KV bucket keeps the TTL
 * it was created with. A dead owner's partitions move after about this long.
 */
export const leaseTtlMs = 5_000;

/** A member's fence closes this far into its TTL without a confirmed heartbeat. */
const safeFraction = 3 / 4;

/** Owner keys a member tries to take at once, before it reads the fair share again. */
const acquireBatch = 128;

/**
 * Spreads a group's partitions over its live members, one owner per partition at a time
 * (NATS 2.9 has no pinned consumers).
 *
 * - **Membership**: each member renews one heartbeat key per round (MemberHeartbeat) in a bucket
 *   whose TTL drops it when the member dies, and follows the others' with one watch. The
 *   heartbeat lists the partitions the member holds, so the watch also tells who owns what.
 * - **Ownership**: each partition has an owner key naming its member, in a bucket without TTL. It
 *   is written only when the partition moves (create when free, compare-and-swap when taken from
 *   a dead member, delete on hand-over) and never renewed: one write per member and round,
 *   whatever it holds, and nobody watches the owner keys.
 * - **Balance**: each member takes its fair share (partitions / members, exactly balanced) and
 *   hands extras over when members join.
 *
 * Safety (fencing): a lease's fence is open while the member's heartbeat is confirmed, and
 * closes 3/4 of a TTL after the last renewal the member *sent* and saw confirmed, by the clock
 * alone. Another member takes the partition only after it marked the owner gone, which the
 * bucket allows only once the owner's heartbeat expired, a full TTL after it was stored: the next
 * owner's first action comes at least a quarter of a TTL after the old owner's last one, and the
 * old owner's id is dead for good (its next renewal fails). The owner key's revision is a fencing
 * token that only grows from one owner to the next.
 */
export class PartitionLeases {
  private currentId: string;
  private heartbeat: MemberHeartbeat;
  private readonly leases = new Map<number, HeldLease>();
  private readonly releases = new Set<Promise<void>>();
  private readonly members: GroupMembers;
  private timer: NodeJS.Timeout | undefined;
  private tickRunning: Promise<void> | undefined;
  private stopped = false;
  private waitingForLegacy = false;
  private stalled = false;
  /**
   * Partitions stopped by a stall whose owner keys still name this member: taken back through the
   * usual round, by compare-and-swap on the revision kept here (no create, no read). Resuming them
   * without a round trip to the bucket was tried: after a nats-server kill -9, 3 of 4 drills
   * delivered older events after newer ones; taken back this way, 0 of 4 (cause not yet found).
   */
  private readonly suspended = new Map<number, { token: number; revision: number }>();
  /**
   * Owner keys this member gave up whose delete was not confirmed (NATS slow, or the bucket
   * without a leader): they still name this member, which no longer runs them. They stay listed
   * in the heartbeat and each round deletes them again; left behind, a key naming a live member
   * that never looks at it again keeps its partition unowned for as long as that member lives.
   */
  private readonly releasing = new Map<number, number>();
  /**
   * What this member held when its heartbeat lapsed: it reaches for those first under its new
   * id. After a restarted nats-server every member lapses, and dealing all partitions anew moved
   * each to another process, which cannot know what the old one acked there (a 2.9 server that
   * was killed forgets its last acks; see the delivery engine's LostAckRepair and AckedByPartition).
   */
  private previous = new Set<number>();
  /**
   * When this member last rejoined after a lapse, the id that lapsed, and how many members were
   * live before. Until as many are live again (for one TTL at most), it takes no partition whose
   * key names another member: when the lease bucket lost its leader for longer than a TTL every
   * member lapsed at once, and the first to rejoin found all others expired and took every
   * partition, then handed two thirds back as they rejoined (a hand-over each: keys waited
   * 9-12 s after a node kill, most of it there). Each takes back its own instead. A member that
   * really died in that outage has its partitions taken a TTL later.
   */
  private rejoined: { at: number; lapsedId: string; membersBefore: number } | undefined;
  /** Live members at this member's last confirmed round (what `rejoined` waits for). */
  private membersWhenConfirmed = 1;

  constructor(
    private readonly buckets: LeaseBuckets,
    private readonly options: PartitionLeasesOptions,
  ) {
    this.members = new GroupMembers(buckets.heartbeats, `member.${options.group}.`, options.ttlMs);
    this.currentId = this.newMemberId();
    this.heartbeat = this.newHeartbeat();
  }

  /** This member's id in the group; a member that lapsed rejoins under a new one. */
  get memberId(): string {
    return this.currentId;
  }

  /** Partitions this member owns now (not counting those it is handing over). */
  ownedPartitions(): number[] {
    return [...this.leases.values()]
      .filter((lease) => lease.state === 'held')
      .map((lease) => lease.partition)
      .sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { logger, ttlMs } = this.options;
    await whileUnavailable('joining a lease group', () => this.heartbeat.create(), logger);
    await whileUnavailable('watching a lease group', () => this.members.start(), logger);
    await this.tick();
    this.timer = setInterval(
      () => {
        this.tickRunning ??= this.tick().finally(() => {
          this.tickRunning = undefined;
        });
      },
      Math.max(100, Math.floor(ttlMs / 4)),
    );
  }

  /** Gives every partition back (after the owner drained it) and leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.tickRunning;
    for (const partition of this.leases.keys()) this.release(partition);
    // Keep the heartbeat alive while partitions drain, so a long drain keeps its fence open.
    const renewing = setInterval(
      () => void this.heartbeat.renew(this.holding()),
      Math.max(100, Math.floor(this.options.ttlMs / 4)),
    );
    try {
      while (this.releases.size > 0) await Promise.all(this.releases);
    } finally {
      clearInterval(renewing);
    }
    await this.dropSuspended();
    this.members.stop();
    await this.heartbeat.remove();
  }

  private newMemberId(): string {
    const suffix = randomUUID();
    return this.options.memberName ? `${this.options.memberName}-${suffix.slice(0, 8)}` : suffix;
  }

  private newHeartbeat(): MemberHeartbeat {
    return new MemberHeartbeat(
      this.buckets.heartbeats,
      this.members.key(this.currentId),
      this.options.ttlMs * safeFraction,
    );
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { logger, group } = this.options;
    try {
      if ((await this.heartbeat.renew(this.holding())) === 'lapsed') await this.rejoin();
      if (this.members.legacy().length > 0) {
        this.yieldToLegacy();
        await this.dropSuspended();
      } else if (this.heartbeat.confirmed()) {
        this.waitingForLegacy = false;
        await this.retryReleases();
        const live = this.members.live(this.memberId);
        this.membersWhenConfirmed = live.length;
        const fairShare = this.fairShare(live);
        const owned = this.ownedPartitions();
        // Hand over the extras (most recently numbered first): the owner drains them meanwhile.
        for (const partition of owned.slice(fairShare).reverse()) this.release(partition);
        if (owned.length < fairShare) await this.acquire();
        // Suspended beyond the fair share (members joined meanwhile): free them for the others.
        if (this.ownedPartitions().length >= fairShare) await this.dropSuspended();
      }
    } catch (err) {
      logger.warn({ err, group }, 'partition lease round failed; will retry');
    }
    this.fenceUnconfirmed();
  }

  /**
   * This member's heartbeat expired (it was paused, or cut off from NATS, for a TTL): another
   * member may already hold its partitions. Every lease ends at once, and the member rejoins
   * under a new id; it takes partitions again through the usual round.
   */
  private async rejoin(): Promise<void> {
    const { logger, group } = this.options;
    const lapsed = this.currentId;
    logger.warn(
      { group, member: lapsed, partitions: this.ownedPartitions().length },
      'lease heartbeat lapsed: every partition of this member ends; rejoining under a new id',
    );
    this.previous = new Set([...this.leases.keys(), ...this.suspended.keys()]);
    for (const lease of this.leases.values()) {
      lease.state = 'ended';
      this.release(lease.partition);
    }
    // Keys still naming the lapsed id are taken by whoever marks it gone: this member first (see
    // `previous`), which it may do at once, the lapsed id being its own.
    this.suspended.clear();
    this.releasing.clear();
    this.members.forget(lapsed);
    this.rejoined = { at: monotonicNow(), lapsedId: lapsed, membersBefore: this.membersWhenConfirmed };
    this.currentId = this.newMemberId();
    this.heartbeat = this.newHeartbeat();
    await this.heartbeat.create();
  }

  /**
   * A member of the earlier protocol renews per-partition leases this protocol does not read:
   * both would own the same partitions. Hold nothing until every such member has stopped.
   */
  private yieldToLegacy(): void {
    if (!this.waitingForLegacy) {
      this.options.logger.error(
        { group: this.options.group, legacyMembers: this.members.legacy() },
        'members of an older Fuze run in this lease group; this member takes no partition until they stop (stop or upgrade every older instance)',
      );
      this.waitingForLegacy = true;
    }
    for (const partition of this.ownedPartitions()) this.release(partition);
  }

  /** Exact balance: floor(P/n) each, one more for the first P mod n members (by id). */
  private fairShare(members: string[]): number {
    const { partitions } = this.options;
    const index = members.indexOf(this.memberId);
    return Math.floor(partitions / members.length) + (index < partitions % members.length ? 1 : 0);
  }

  /** Every partition whose owner key names this member (held, being handed over, or suspended). */
  private holding(): number[] {
    const held = [...this.leases.values()]
      .filter((lease) => lease.state !== 'ended')
      .map((lease) => lease.partition);
    for (const partition of this.suspended.keys()) if (!this.leases.has(partition)) held.push(partition);
    for (const partition of this.releasing.keys())
      if (!this.leases.has(partition) && !this.suspended.has(partition)) held.push(partition);
    return held;
  }

  /** Frees the owner keys of suspended partitions (this member will not resume them). */
  private async dropSuspended(): Promise<void> {
    const dropped = [...this.suspended];
    this.suspended.clear();
    await Promise.all(dropped.map(([partition, { revision }]) => this.deleteOwnerKey(partition, revision)));
  }

  /** Deletes an owner key that names this member, at `revision`; kept in `releasing` until done. */
  private async deleteOwnerKey(partition: number, revision: number): Promise<void> {
    const key = this.ownerKey(partition);
    try {
      await this.buckets.owners.delete(key, { previousSeq: revision });
      this.releasing.delete(partition);
    } catch (err) {
      if (!isWrongLastSequence(err)) {
        this.releasing.set(partition, revision);
        return;
      }
      // Changed since: a delete whose answer was lost, or another member's take-over.
      const entry = await this.buckets.owners.get(key).catch(() => undefined);
      if (entry === undefined) this.releasing.set(partition, revision);
      else if (entry?.operation === 'PUT' && entry.string() === this.memberId)
        this.releasing.set(partition, entry.revision);
      else this.releasing.delete(partition);
    }
  }

  /** Deletes again the owner keys whose delete was not confirmed (see `releasing`). */
  private async retryReleases(): Promise<void> {
    await Promise.all(
      [...this.releasing]
        .filter(([partition]) => !this.leases.has(partition) && !this.suspended.has(partition))
        .map(([partition, revision]) => this.deleteOwnerKey(partition, revision)),
    );
  }

  private ownerKey(partition: number): string {
    return `owner.${this.options.group}.${partition}`;
  }

  /**
   * Takes partitions up to this member's fair share, among those no live member's heartbeat
   * names. A batch at a time, with the fair share and the heartbeats read again before each:
   * members that join at the same moment each see the others arrive within a batch or two,
   * instead of every one of them reaching for every partition.
   */
  private async acquire(): Promise<void> {
    // Partitions this member stopped on a stall come first: their keys still name it.
    const first = new Set([...this.suspended.keys(), ...this.previous]);
    const order = [
      ...first,
      ...shuffled(Array.from({ length: this.options.partitions }, (_, p) => p)).filter((p) => !first.has(p)),
    ];
    const gone = new Map<string, Promise<boolean>>(); // one question per member and round
    let next = 0;
    while (!this.stopped && this.heartbeat.confirmed() && next < order.length) {
      const live = this.members.live(this.memberId);
      const wanted = this.fairShare(live) - this.ownedPartitions().length;
      if (wanted <= 0) return;
      const heldElsewhere = this.members.heldByOthers(this.memberId);
      const batch: number[] = [];
      while (batch.length < Math.min(wanted, acquireBatch) && next < order.length) {
        const partition = order[next++]!;
        if (!this.leases.has(partition) && !heldElsewhere.has(partition)) batch.push(partition);
      }
      const liveSet = new Set(live);
      const taken = await Promise.all(batch.map((partition) => this.tryTake(partition, liveSet, gone)));
      for (const lease of taken) {
        if (!lease || this.stopped || this.leases.has(lease.partition)) continue;
        this.leases.set(lease.partition, lease);
        this.releasing.delete(lease.partition);
        this.options.logger.debug(
          { group: this.options.group, partition: lease.partition, token: lease.token },
          'acquired a partition lease',
        );
        await this.options.owner.acquired(lease.partition, lease);
      }
    }
  }

  /**
   * Creates the partition's owner key; if it exists, reads it and takes it over (compare-and-swap)
   * when it names this member (a create whose answer was lost) or a member confirmed gone.
   */
  private async tryTake(
    partition: number,
    live: Set<string>,
    gone: Map<string, Promise<boolean>>,
  ): Promise<HeldLease | undefined> {
    const { owners } = this.buckets;
    const key = this.ownerKey(partition);
    const me = this.memberId;
    try {
      let revision: number;
      const kept = this.suspended.get(partition);
      if (kept) return await this.takeBack(partition, kept.revision);
      try {
        revision = await owners.create(key, me);
      } catch (err) {
        if (!isWrongLastSequence(err)) return undefined; // NATS did not answer: next round
        const entry = await owners.get(key);
        if (entry?.operation !== 'PUT') return undefined; // it just changed: next round
        const holder = entry.string();
        if (holder !== me) {
          if (live.has(holder)) return undefined;
          if (this.leavesToItsHolder(holder, live.size)) {
            this.options.logger.debug(
              { group: this.options.group, partition, holder },
              'leaving a partition to the member that held it before a lease bucket outage',
            );
            return undefined;
          }
          let confirming = gone.get(holder);
          if (!confirming) {
            confirming = this.members.confirmGone(holder, me);
            gone.set(holder, confirming);
          }
          if (!(await confirming)) return undefined;
        }
        revision = await owners.update(key, me, entry.revision);
      }
      return new HeldLease(partition, revision, revision, this.heartbeat);
    } catch {
      return undefined; // someone changed the key first, or NATS did not answer
    }
  }

  /** A key naming another member is left to it while the group reforms after a lapse (see `rejoined`). */
  private leavesToItsHolder(holder: string, liveMembers: number): boolean {
    const { rejoined } = this;
    return (
      rejoined !== undefined &&
      holder !== rejoined.lapsedId &&
      liveMembers < rejoined.membersBefore &&
      monotonicNow() - rejoined.at < this.options.ttlMs
    );
  }

  /**
   * Takes back a partition this member stopped on a stall, by compare-and-swap on the revision it
   * kept. Unanswered, it stays suspended (its key still names this member) for the next round; a
   * key that changed is read: ours (an update whose answer was lost) is taken at its revision,
   * anyone else's (or none) is forgotten.
   */
  private async takeBack(partition: number, kept: number): Promise<HeldLease | undefined> {
    const { owners } = this.buckets;
    const key = this.ownerKey(partition);
    const me = this.memberId;
    let revision: number;
    try {
      revision = await owners.update(key, me, kept);
    } catch (err) {
      if (!isWrongLastSequence(err)) return undefined;
      const entry = await owners.get(key).catch(() => undefined);
      if (entry === undefined) return undefined;
      if (entry?.operation !== 'PUT' || entry.string() !== me) {
        this.suspended.delete(partition);
        return undefined;
      }
      revision = entry.revision;
    }
    this.suspended.delete(partition);
    return new HeldLease(partition, revision, revision, this.heartbeat);
  }

  /**
   * Hands a partition over: the owner drains it while the heartbeat keeps the fence open, so
   * running work may settle; then the owner key is deleted, if it still names this lease.
   */
  private release(partition: number, suspend = false): void {
    const lease = this.leases.get(partition);
    if (!lease || lease.handover) return;
    const member = this.currentId;
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
      lease.state = 'ended';
      this.leases.delete(partition);
      if (suspend && member === this.currentId && !this.stopped) {
        this.suspended.set(partition, { token: lease.token, revision: lease.revision });
        return;
      }
      if (member === this.currentId) await this.deleteOwnerKey(partition, lease.revision);
      // Lapsed since: whoever marks the old id gone may take the key, so a failed delete is fine.
      else
        await this.buckets.owners
          .delete(this.ownerKey(partition), { previousSeq: lease.revision })
          .catch(() => {});
    })();
    lease.handover = done;
    this.releases.add(done);
    void done.finally(() => this.releases.delete(done));
  }

  /**
   * A heartbeat not confirmed within the safe window has closed every fence: the owner acts on
   * nothing, and its partitions are stopped (drained) as on a hand-over, so each starts afresh
   * from its durable and checkpoint when it resumes. The owner keys are kept: while the heartbeat
   * key lives nobody else may take them, so a renewal that gets through resumes the same
   * partitions through the usual round (a compare-and-swap of its own key, first in line), and
   * one that finds the key gone frees them
   * (rejoin). Deleting the keys on every stall turned one slow process into churn for the whole
   * group.
   */
  private fenceUnconfirmed(): void {
    if (this.heartbeat.confirmed()) {
      this.stalled = false;
      return;
    }
    const held = this.ownedPartitions();
    if (held.length === 0) return;
    if (!this.stalled)
      this.options.logger.warn(
        { group: this.options.group, partitions: held.length },
        'lease renewals stalled; the partitions of this member are fenced and stop until a renewal gets through',
      );
    this.stalled = true;
    for (const partition of held) this.release(partition, true);
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
