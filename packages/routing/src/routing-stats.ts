import type { Logger } from '@fuze/core';

/** What one router reports (`routing.<member>` in the lease bucket, whose TTL drops a dead one's). */
export interface RouterWorkerStats {
  member: string;
  /** When this was written (epoch ms). */
  at: number;
  /** Events routed per second over the last interval, per bus: every event the bus accepted. */
  eventsPerSecond: Record<string, number>;
  /** Of those, matched per second per rule (`<bus>/<rule>`). */
  matchedPerSecond: Record<string, number>;
}

/** The report key of one router, and (member `*`) the pattern of all of them. */
export function routingStatsKey(member = '*'): string {
  return `routing.${member}`;
}

export interface RoutingStatsOptions {
  /** The lease bucket (only `put` is used). */
  kv: { put(key: string, value: string): Promise<unknown> };
  memberId: string;
  /** Default 2 s (under the lease bucket's 5 s TTL). */
  intervalMs?: number;
  logger: Logger;
}

/**
 * Counts what one router routes, per bus and per matched rule, and reports the rates every
 * interval, for `GET /v1/buses` and `GET /v1/rules` to sum over the routers (the console's
 * overview). Counted where `fuze_events_matched_total` is, so events published straight to
 * JetStream by the SDK count as well as those through the gateway.
 */
export class RoutingStats {
  private events = new Map<string, number>();
  private matched = new Map<string, number>();
  private lastReport = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RoutingStatsOptions) {}

  start(): void {
    this.lastReport = Date.now();
    this.timer ??= setInterval(() => void this.report(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  record(bus: string, matchedRules: readonly string[]): void {
    this.events.set(bus, (this.events.get(bus) ?? 0) + 1);
    for (const rule of matchedRules) {
      const key = `${bus}/${rule}`;
      this.matched.set(key, (this.matched.get(key) ?? 0) + 1);
    }
  }

  private async report(): Promise<void> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.lastReport) / 1000);
    const rates = (counts: Map<string, number>) =>
      Object.fromEntries([...counts].map(([key, n]) => [key, Math.round((n / seconds) * 10) / 10]));
    const stats: RouterWorkerStats = {
      member: this.options.memberId,
      at: now,
      eventsPerSecond: rates(this.events),
      matchedPerSecond: rates(this.matched),
    };
    this.events = new Map();
    this.matched = new Map();
    this.lastReport = now;
    await this.options.kv
      .put(routingStatsKey(this.options.memberId), JSON.stringify(stats))
      .catch((err: unknown) => this.options.logger.debug({ err }, 'cannot report routing stats'));
  }
}
