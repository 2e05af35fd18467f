import { perSecond, WorkerReporter } from '@fuze/bus';
import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import type { DeliveryMiddleware } from './delivery.js';
import type { DeliveryMetrics } from './delivery-metrics.js';

/**
 * Upper bounds (ms) of the delivery-latency buckets a report counts into, the last one open: a
 * fixed set, so that the admin API can add up the workers' buckets and read quantiles from the sum.
 */
export const latencyBucketsMs = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/** What one worker reports of one target (`stats.<target>.<member>` in the lease bucket). */
export interface TargetWorkerStats {
  member: string;
  /** When this was written (epoch ms). */
  at: number;
  /** Attempts this worker started per second over the last report interval. */
  attemptsPerSecond: number;
  /** Over the same interval, counted by the calls that feed /metrics (DeliveryMetrics). */
  deliveredPerSecond?: number;
  retriesPerSecond?: number;
  deadLettersPerSecond?: number;
  /**
   * Deliveries of the interval by latency (from the event's acceptance to the target's answer):
   * one count per `latencyBucketsMs` bound, then one for slower ones.
   */
  latencyBuckets?: number[];
  inFlight: number;
  /** Partitions of the target this worker owns. */
  partitions: number[];
  /** The target's circuit breaker as this worker last saw it, when the target has one. */
  breaker?: 'closed' | 'open' | 'half-open';
}

export interface TargetStatsOptions {
  /** The lease bucket: its TTL drops the report of a worker that died. */
  kv: KV;
  target: string;
  memberId: string;
  /** What else the report says, read at each report. */
  snapshot(): Pick<TargetWorkerStats, 'partitions' | 'breaker'>;
  /** Default 2 s (under the lease bucket's 5 s TTL). */
  intervalMs?: number;
  logger: Logger;
}

/** The report key of one worker of a target, and the prefix of all of them. */
export function targetStatsKey(target: string, member = '*'): string {
  return `stats.${target}.${member}`;
}

/**
 * Counts the attempts one worker starts for a target and those in flight, and reports them with
 * its partitions and breaker state every interval, for `GET /v1/targets` (`fuze targets`) to sum.
 */
export class TargetStats {
  private started = 0;
  private delivered = 0;
  private retried = 0;
  private deadLettered = 0;
  private latencies = new Array<number>(latencyBucketsMs.length + 1).fill(0);
  private inFlight = 0;
  private readonly reporter: WorkerReporter;

  constructor(private readonly options: TargetStatsOptions) {
    this.reporter = new WorkerReporter({
      kv: options.kv,
      key: targetStatsKey(options.target, options.memberId),
      report: (seconds) => this.report(seconds),
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      logger: options.logger,
    });
  }

  /** Reports from now on, every interval. */
  start(): void {
    this.reporter.start();
  }

  /** Innermost: counts each attempt as it starts, and while it runs. */
  middleware(): DeliveryMiddleware {
    return (next) => async (delivery) => {
      this.started += 1;
      this.inFlight += 1;
      try {
        await next(delivery);
      } finally {
        this.inFlight -= 1;
      }
    };
  }

  /** `metrics`, also counted here: the report's rates come from the same calls as /metrics. */
  counting(metrics: DeliveryMetrics): DeliveryMetrics {
    return {
      ...metrics,
      delivered: (target, latencySeconds) => {
        this.delivered += 1;
        if (latencySeconds !== undefined) {
          const ms = latencySeconds * 1000;
          const bucket = latencyBucketsMs.findIndex((bound) => ms <= bound);
          this.latencies[bucket < 0 ? latencyBucketsMs.length : bucket]! += 1;
        }
        metrics.delivered(target, latencySeconds);
      },
      retried: (target) => {
        this.retried += 1;
        metrics.retried(target);
      },
      deadLettered: (target) => {
        this.deadLettered += 1;
        metrics.deadLettered(target);
      },
    };
  }

  stop(): void {
    this.reporter.stop();
  }

  /** What was counted over the last `seconds`, as rates; the counts start again. */
  private report(seconds: number): TargetWorkerStats {
    const rate = (count: number) => perSecond(count, seconds);
    const stats: TargetWorkerStats = {
      member: this.options.memberId,
      at: Date.now(),
      attemptsPerSecond: rate(this.started),
      deliveredPerSecond: rate(this.delivered),
      retriesPerSecond: rate(this.retried),
      deadLettersPerSecond: rate(this.deadLettered),
      latencyBuckets: this.latencies,
      inFlight: this.inFlight,
      ...this.options.snapshot(),
    };
    this.started = 0;
    this.delivered = 0;
    this.retried = 0;
    this.deadLettered = 0;
    this.latencies = new Array<number>(latencyBucketsMs.length + 1).fill(0);
    return stats;
  }
}
