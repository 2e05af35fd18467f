import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { monotonicNow } from './lease-fence.js';

/**
 * The live members of a lease group, kept current by one watch on their heartbeat keys instead of
 * listing the keys every round (a listing is a temporary consumer on the server each time). A
 * member is live while its last heartbeat is younger than the TTL: the bucket drops expired keys
 * without a delete marker, so age, not a delete, is what tells a dead member.
 */
export class GroupMembers {
  /** Member id → monotonic time of its last heartbeat (server timestamp, aged by this clock). */
  private readonly lastSeen = new Map<string, number>();
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private loaded: Promise<void> = Promise.resolve();

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
    this.loaded = Promise.race([loaded, sleep(this.ttlMs)]);
    await this.loaded;
  }

  stop(): void {
    this.watcher?.stop();
  }

  /** Members heard from within the TTL, `self` always included, sorted. */
  live(self: string): string[] {
    const oldest = monotonicNow() - this.ttlMs;
    const members = [self];
    for (const [member, seen] of this.lastSeen) {
      if (seen < oldest) this.lastSeen.delete(member);
      else if (member !== self) members.push(member);
    }
    return members.sort();
  }

  private record(entry: KvWatchEntry): void {
    const member = entry.key.slice(this.prefix.length);
    if (entry.operation !== 'PUT') {
      this.lastSeen.delete(member);
      return;
    }
    const age = Math.max(0, Date.now() - entry.created.getTime());
    this.lastSeen.set(member, monotonicNow() - age);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
