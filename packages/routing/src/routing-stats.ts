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

/** Counts since the router started (they only grow): per bus, and per rule (`<bus>/<rule>`). */
export interface RoutedCounts {
  readonly perBus: ReadonlyMap<string, number>;
  readonly perRule: ReadonlyMap<string, number>;
}

export interface RoutingStatsOptions {
  /** The lease bucket. */
  kv: WorkerReporterOptions['kv'];
  /** The router's own counters (those behind /metrics), read at each report. */
  counts(): RoutedCounts;
  memberId: string;
  /** Default 2 s (under the lease bucket's 5 s TTL). */
  intervalMs?: number;
  logger: Logger;
}

/**
 * Reports what one router routed, per bus and per matched rule, as rates every interval, for
 * `GET /v1/buses` to sum over the routers (the console's overview). The rates are differences of
 * the router's own counters (where `fuze_events_matched_total` is counted), taken at each report:
 * nothing more is done per event, and events published straight to JetStream by the SDK count as
 * well as those through the gateway.
 */
export class RoutingStats {
  private last: { perBus: Map<string, number>; perRule: Map<string, number> } = {
    perBus: new Map(),
    perRule: new Map(),
  };
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

  /** Reports from now on, every interval: what was routed before is not counted. */
  start(): void {
    this.last = this.snapshot();
    this.reporter.start();
  }

  stop(): void {
    this.reporter.stop();
  }

  private snapshot() {
    const counts = this.options.counts();
    return { perBus: new Map(counts.perBus), perRule: new Map(counts.perRule) };
  }

  /** What was routed over the last `seconds`, as rates. */
  private report(seconds: number): RouterWorkerStats {
    const now = this.snapshot();
    const rates = (current: Map<string, number>, before: Map<string, number>) =>
      Object.fromEntries(
        [...current].map(([key, n]) => [key, perSecond(n - (before.get(key) ?? 0), seconds)]),
      );
    const stats: RouterWorkerStats = {
      member: this.options.memberId,
      at: Date.now(),
      eventsPerSecond: rates(now.perBus, this.last.perBus),
      matchedPerSecond: rates(now.perRule, this.last.perRule),
    };
    this.last = now;
    return stats;
  }
}
