import { type Clock, systemClock } from '@fuze/core';
import type { KV, KvEntry } from '@nats-io/kv';

/** One reading: the server's timestamp of a write against the local times around it. */
interface Sample {
  offsetMs: number;
  roundTripMs: number;
  atMs: number;
}

/** Samples older than this are forgotten: clocks drift, and a better path may have gone. */
const sampleLifeMs = 60_000;

/**
 * The NATS server's clock, as seen from this process: the local clock plus an offset measured
 * from writes to a KV bucket. JetStream stamps each stored message with the server's time; a
 * write sent at local t0 and acknowledged at t1 was stamped between them, so the offset is the
 * stamp minus (t0 + t1) / 2, wrong by at most half the round trip. The sample with the shortest
 * round trip of the last minute wins (as NTP does). Workers that share state keyed by time (the
 * rate limit's bucket) read one clock this way, whatever their own clocks say.
 */
export class ServerClock {
  private samples: Sample[] = [];
  private lastWrite: { revision: number; sentMs: number; ackMs: number } | undefined;
  private calibrating: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly kv: KV,
    /** A key this process alone writes, for its first reading. */
    private readonly probeKey: string,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** The server's time now (epoch ms), once a first reading was taken (`ready`). */
  now(): number {
    return this.clock.now() + this.offsetMs();
  }

  /** Takes a first reading when there is none: one write and one read of the probe key. */
  ready(): Promise<void> {
    if (this.samples.length > 0) return Promise.resolve();
    this.calibrating ??= (async () => {
      const sentMs = this.clock.now();
      const revision = await this.kv.put(this.probeKey, '');
      const ackMs = this.clock.now();
      const entry = await this.kv.get(this.probeKey);
      if (entry?.revision === revision) this.add(entry.created.getTime(), sentMs, ackMs);
      await this.kv.purge(this.probeKey).catch(() => {});
    })().finally(() => {
      this.calibrating = undefined;
    });
    return this.calibrating;
  }

  /** Times a write of ours, to read its server stamp when the entry is next read. */
  async write(put: () => Promise<number>): Promise<number> {
    const sentMs = this.clock.now();
    const revision = await put();
    this.lastWrite = { revision, sentMs, ackMs: this.clock.now() };
    return revision;
  }

  /** Learns from an entry read back: if it is our last write, its stamp is a reading. */
  read(entry: KvEntry | null): void {
    const write = this.lastWrite;
    if (!entry || !write || entry.revision !== write.revision) return;
    this.lastWrite = undefined;
    this.add(entry.created.getTime(), write.sentMs, write.ackMs);
  }

  private add(stampMs: number, sentMs: number, ackMs: number): void {
    const atMs = this.clock.now();
    this.samples = this.samples.filter((s) => atMs - s.atMs < sampleLifeMs).slice(-15);
    this.samples.push({ offsetMs: stampMs - (sentMs + ackMs) / 2, roundTripMs: ackMs - sentMs, atMs });
  }

  private offsetMs(): number {
    let best: Sample | undefined;
    for (const s of this.samples) if (!best || s.roundTripMs <= best.roundTripMs) best = s;
    return best?.offsetMs ?? 0;
  }
}
