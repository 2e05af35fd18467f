import { type Clock, systemClock } from '@fuze/core';
import type { KV } from '@nats-io/kv';

/** One reading: the server's timestamp of a write against the local times around it. */
interface Sample {
  offsetMs: number;
  roundTripMs: number;
  atMs: number;
}

/** Samples older than this are forgotten: clocks drift, and a better path may have gone. */
const sampleLifeMs = 5 * 60_000;
const readingEveryMs = 30_000;

/**
 * The NATS server's clock, as seen from this process: the local clock plus an offset measured
 * from writes to a KV bucket. JetStream stamps each stored message with the server's time; a
 * write sent at local t0 and acknowledged at t1 was stamped between them, so the offset is the
 * stamp minus (t0 + t1) / 2, wrong by at most half the round trip. A reading is taken at start and
 * every 30 s; the one with the shortest round trip of the last 5 minutes wins (as NTP does).
 * Workers that share state keyed by time (flow control's rate bucket, breaker and slots) read one
 * clock this way, whatever their own clocks say. Sleeping is the local clock's: a duration is the
 * same on both.
 */
export class ServerClock implements Clock {
  private samples: Sample[] = [];
  private readings: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KV,
    /** A key this process alone writes. */
    private readonly probeKey: string,
    private readonly local: Clock = systemClock,
  ) {}

  now(): number {
    return this.local.now() + this.offsetMs();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return this.local.sleep(ms, signal);
  }

  /**
   * Takes three first readings (a process just started answers slowly; the quickest round trip
   * errs least; failures leave the local clock in use), then one every 30 s.
   */
  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) await this.read().catch(() => {});
    this.readings ??= setInterval(() => void this.read().catch(() => {}), readingEveryMs);
    this.readings.unref();
  }

  stop(): void {
    clearInterval(this.readings);
    this.readings = undefined;
    void this.kv.purge(this.probeKey).catch(() => {});
  }

  /** One reading: a write of the probe key, then a read of its stamp. */
  async read(): Promise<void> {
    const sentMs = this.local.now();
    const revision = await this.kv.put(this.probeKey, '');
    const ackMs = this.local.now();
    const entry = await this.kv.get(this.probeKey);
    if (entry?.revision !== revision) return;
    this.samples = this.samples.filter((s) => ackMs - s.atMs < sampleLifeMs).slice(-15);
    this.samples.push({
      offsetMs: entry.created.getTime() - (sentMs + ackMs) / 2,
      roundTripMs: ackMs - sentMs,
      atMs: ackMs,
    });
  }

  private offsetMs(): number {
    let best: Sample | undefined;
    for (const s of this.samples) if (!best || s.roundTripMs <= best.roundTripMs) best = s;
    return best?.offsetMs ?? 0;
  }
}
