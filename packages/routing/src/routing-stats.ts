import { perSecond, WorkerReporter, type WorkerReporterOptions } from '@fuze/bus';
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
  /** The lease bucket. */
  kv: WorkerReporterOptions['kv'];
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
  private readonly reporter: WorkerReporter;

  constructor(private readonly options: RoutingStatsOptions) {
    this.reporter = new WorkerReporter({
      kv: options.kv,
      key: routingStatsKey(options.memberId),
      report: (seconds) => this.report(seconds),
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      logger: options.logger,
    });
  }

  start(): void {
    this.reporter.start();
  }

  stop(): void {
    this.reporter.stop();
  }

  record(bus: string, matchedRules: readonly string[]): void {
    this.events.set(bus, (this.events.get(bus) ?? 0) + 1);
    for (const rule of matchedRules) {
      const key = `${bus}/${rule}`;
      this.matched.set(key, (this.matched.get(key) ?? 0) + 1);
    }
  }

  /** What was routed over the last `seconds`, as rates; the counts start again. */
  private report(seconds: number): RouterWorkerStats {
    const rates = (counts: Map<string, number>) =>
      Object.fromEntries([...counts].map(([key, n]) => [key, perSecond(n, seconds)]));
    const stats: RouterWorkerStats = {
      member: this.options.memberId,
      at: Date.now(),
      eventsPerSecond: rates(this.events),
      matchedPerSecond: rates(this.matched),
    };
    this.events = new Map();
    this.matched = new Map();
    return stats;
  }
}
