import type { Logger } from '@fuze/core';
import { type DeliveredFiring, type FuzeDb, recordDeliveredFirings } from '@fuze/db';
import type { DeliveryMiddleware } from '@fuze/delivery';
import { parseTimerEventId } from '@fuze/timers';

export interface TimerOutcomeRecorderOptions {
  db: FuzeDb;
  logger: Logger;
  /** Writes what was noted this often (default 250 ms). */
  flushMs?: number;
  /** Notes kept while Postgres is away; the oldest are dropped past this (default 10,000). */
  maxPending?: number;
}

/**
 * Tells timers that their firing's event was delivered (a timer's `lastOutcome: delivered`).
 * Deliveries are noted in memory and written in batches, off the delivery path: a slow or absent
 * Postgres never delays or fails a delivery. A note is best effort: one lost to a crash, or dropped
 * while Postgres is away, leaves the outcome `published`.
 */
export class TimerOutcomeRecorder {
  private pending: DeliveredFiring[] = [];
  private dropped = 0;
  private failures = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: TimerOutcomeRecorderOptions) {
    this.timer = setInterval(() => {
      this.flushing = this.flushing.then(() => this.flush());
    }, options.flushMs ?? 250);
    this.timer.unref();
  }

  /** A middleware that notes each delivery of a timer's event once its attempt succeeded. */
  middleware(): DeliveryMiddleware {
    return (next) => async (delivery) => {
      await next(delivery);
      const envelope = delivery.envelope;
      const id = envelope.attributes.id;
      // Most events are no timer's: a cheap look at the id before the parse.
      if (id === undefined || !id.includes('@') || !id.includes('#')) return;
      const firing = parseTimerEventId(id);
      if (!firing) return;
      this.note({
        ...firing,
        eventSource: envelope.attributes.source ?? '',
        rule: envelope.rule,
        target: envelope.target,
        deliveredAt: new Date(),
      });
    };
  }

  private note(firing: DeliveredFiring): void {
    this.pending.push(firing);
    const max = this.options.maxPending ?? 10_000;
    if (this.pending.length > max) {
      this.dropped += this.pending.length - max;
      this.pending.splice(0, this.pending.length - max);
    }
  }

  private async flush(): Promise<void> {
    if (this.dropped > 0) {
      this.options.logger.warn(
        { dropped: this.dropped },
        'timer delivery outcomes dropped while Postgres was unavailable; those timers still read published',
      );
      this.dropped = 0;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, 1_000);
    try {
      await recordDeliveredFirings(this.options.db, batch);
      if (this.failures > 0) this.options.logger.info('recording timer delivery outcomes again');
      this.failures = 0;
    } catch (err) {
      this.pending.unshift(...batch);
      // Every flush retries; one line for the outage, and one per 20 failed flushes after it.
      if (this.failures++ % 20 === 0) {
        this.options.logger.warn(
          { err, failures: this.failures },
          'cannot record timer delivery outcomes (Postgres down?); retrying',
        );
      }
    }
  }

  /** Writes what is noted, then stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
