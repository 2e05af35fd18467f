import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { monotonicNow } from './lease-fence.js';
import { goneHeartbeat, heldPartitions } from './member-heartbeat.js';

/**
 * The live members of a lease group, kept current by one watch on their heartbeat keys instead of
 * listing the keys every round (a listing is a temporary consumer on the server each time). A
 * member is live while its last heartbeat is younger than the TTL: the bucket drops expired keys
 * without a delete marker, so age, not a delete, is what tells a dead member.
 */
export class GroupMembers {
  /** Member id → monotonic time of its last heartbeat (server timestamp, aged by this clock). */
  private readonly lastSeen = new Map<string, number>();
  /** Member id → the partitions its last heartbeat said it holds. */
  private readonly holdings = new Map<string, number[]>();
  /** Members of the earlier lease protocol (a bare timestamp as heartbeat), same clock. */
  private readonly legacySeen = new Map<string, number>();
  /** Member ids known dead for good: marked gone in the bucket (by anyone) or lapsed here. */
  private readonly gone = new Set<string>();
  private watcher: QueuedIterator<KvWatchEntry> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  /** Starts the watch; resolves once the current heartbeats are loaded (or after one TTL). */
  async start(): Promise<void> {
    let markLoaded: () => void = () => {};
    const loaded = new Promise<void>((resolve) => {
      markLoaded = resolve;
    });
    this.watcher = await this.kv.watch({ key: `${this.prefix}*` });
    const watcher = this.watcher;
    void (async () => {
      for await (const entry of watcher) {
        this.record(entry);
        if (entry.isUpdate || entry.delta === 0) markLoaded();
      }
    })().catch(() => {});
    await Promise.race([loaded, sleep(this.ttlMs)]);
  }

  stop(): void {
    this.watcher?.stop();
  }

  key(member: string): string {
    return `${this.prefix}${member}`;
  }

  /** Members heard from within the TTL, `self` always included, sorted. */
  live(self: string): string[] {
    const members = [self];
    for (const member of this.heardWithin(this.lastSeen)) if (member !== self) members.push(member);
    return members.sort();
  }

  /** Partitions that live members other than `self` say they hold (as of their last heartbeat). */
  heldByOthers(self: string): Set<number> {
    const held = new Set<number>();
    for (const member of this.live(self)) {
      if (member === self) continue;
      for (const partition of this.holdings.get(member) ?? []) held.add(partition);
    }
    return held;
  }

  /** Live members that run the earlier lease protocol: they do not see this protocol's leases. */
  legacy(): string[] {
    return this.heardWithin(this.legacySeen);
  }

  /** A member of this process that lapsed: never live again, whatever the watch still holds. */
  forget(member: string): void {
    this.gone.add(member);
    this.lastSeen.delete(member);
    this.holdings.delete(member);
  }

  /**
   * Is `member` dead for good, so that its leases may be taken? Its heartbeat must be gone from
   * the bucket, which the bucket itself decides: creating the key succeeds only when it expired
   * (or was deleted), and what it writes, `gone`, makes the member's own next renewal fail
   * (compare-and-swap), so it can never act on its leases again. A member this watch still sees
   * as live is not asked about.
   */
  async confirmGone(member: string, self: string): Promise<boolean> {
    if (this.gone.has(member)) return true;
    if (this.live(self).includes(member)) return false;
    try {
      await this.kv.create(this.key(member), goneHeartbeat);
    } catch {
      const entry = await this.kv.get(this.key(member)).catch(() => null);
      if (!(entry?.operation === 'PUT' && entry.string() === goneHeartbeat)) return false;
    }
    this.forget(member);
    return true;
  }

  private heardWithin(seen: Map<string, number>): string[] {
    const oldest = monotonicNow() - this.ttlMs;
    const members: string[] = [];
    for (const [member, at] of seen) {
      if (at < oldest) {
        seen.delete(member);
        this.holdings.delete(member);
      } else members.push(member);
    }
    return members;
  }

  private record(entry: KvWatchEntry): void {
    const member = entry.key.slice(this.prefix.length);
    this.lastSeen.delete(member);
    this.legacySeen.delete(member);
    this.holdings.delete(member);
    if (entry.operation !== 'PUT') return;
    const value = entry.string();
    if (value === goneHeartbeat) {
      this.gone.add(member);
      return;
    }
    if (this.gone.has(member)) return;
    const age = Math.max(0, Date.now() - entry.created.getTime());
    const seenAt = monotonicNow() - age;
    const holding = heldPartitions(value);
    if (holding) {
      this.lastSeen.set(member, seenAt);
      this.holdings.set(member, holding);
    } else if (/^\d+$/.test(value)) this.legacySeen.set(member, seenAt);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
