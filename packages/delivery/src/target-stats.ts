import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';
import type { DeliveryMiddleware } from './delivery.js';

/** What one worker reports of one target (`stats.<target>.<member>` in the lease bucket). */
export interface TargetWorkerStats {
  member: string;
  /** When this was written (epoch ms). */
  at: number;
  /** Attempts this worker started per second over the last report interval. */
  attemptsPerSecond: number;
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
  private inFlight = 0;
  private lastReport = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TargetStatsOptions) {}

  /** Reports from now on, every interval. */
  start(): void {
    this.lastReport = Date.now();
    this.timer ??= setInterval(() => void this.report(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
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

  stop(): void {
    clearInterval(this.timer);
  }

  private async report(): Promise<void> {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.lastReport) / 1000);
    const stats: TargetWorkerStats = {
      member: this.options.memberId,
      at: now,
      attemptsPerSecond: Math.round((this.started / seconds) * 10) / 10,
      inFlight: this.inFlight,
      ...this.options.snapshot(),
    };
    this.started = 0;
    this.lastReport = now;
    await this.options.kv
      .put(targetStatsKey(this.options.target, this.options.memberId), JSON.stringify(stats))
      .catch((err: unknown) => this.options.logger.debug({ err }, 'cannot report target stats'));
  }
}
