import { type EventRouting, type Logger, retryDelayMs, type SystemEventType } from '@fuze/core';
import { type Database, type FuzeDb, peekDueTimes, TIMER_NOTIFY_CHANNEL } from '@fuze/db';
import { DueTimeHeap } from './due-time-heap.js';
import { type BatchResult, type EventPublisher, fireBatch } from './fire-batch.js';
import type { SchedulerStats } from './scheduler-stats.js';

export interface FiringLoopOptions {
  db: FuzeDb;
  /** LISTEN for near timers put by any process (admin API, held events, another instance). */
  listen: Database['listen'];
  publisher: EventPublisher;
  streamPrefix: string;
  routing: EventRouting;
  /** FUZE_SYSTEM_EVENTS: `dev.fuze.timer.fired` / `.failed` are published with the firings. */
  systemEvents?: ReadonlySet<SystemEventType>;
  logger: Logger;
  stats: SchedulerStats;
  /** Timers claimed per transaction at most. Default 500. */
  batchSize?: number;
  /** Firing transactions in flight at once (each holds a connection). Default 4. */
  workers?: number;
  /**
   * While a firing transaction is publishing, a new claim starts only for timers due at least
   * this long ago: small batches when idle, bigger ones under load. Default 3 ms.
   */
  claimSpacingMs?: number;
  /** How far ahead the range query loads due times into the heap of due times. Default 5 s. */
  horizonMs?: number;
  /** How often the range query runs. Default 1 s: it must be shorter than the horizon. */
  refreshMs?: number;
  /** Due times loaded per range query. Default 5,000. */
  peekLimit?: number;
}

/**
 * The firing loop of one scheduler instance. It sleeps until the earliest due time in its heap of due times
 * (or the next range query), then claims what the database says is due. Claims overlap: while one
 * transaction publishes and commits, the next claim can already take the timers that came due
 * meanwhile (up to `workers` transactions in flight; a claim query runs one at a time). After a
 * full batch it keeps claiming until a claim comes back short.
 *
 * Any number of instances may run: FOR UPDATE SKIP LOCKED hands each due row to exactly one of
 * them, and due-ness is decided by the database clock, never by an instance's own clock (a skewed
 * instance only wakes a little early or late).
 */
export class FiringLoop {
  private readonly dueTimes = new DueTimeHeap();
  private readonly batchSize: number;
  private readonly workers: number;
  private readonly claimSpacingMs: number;
  private readonly horizonMs: number;
  private readonly refreshMs: number;
  private readonly peekLimit: number;
  /** Database clock minus local clock, measured at each range query. */
  private offsetMs = 0;
  private nextRefreshAt = 0;
  private stopping = false;
  private sleepingUntil = Number.POSITIVE_INFINITY;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private subscription: { unlisten(): Promise<void> } | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** A claim query is running: the next one waits for it, so claims do not fight over the same rows. */
  private claiming = false;
  /** The last claim came back full: more is due than it could take. */
  private backlog = false;
  private failures = 0;
  private backoffUntil = 0;

  constructor(private readonly options: FiringLoopOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.workers = options.workers ?? 4;
    this.claimSpacingMs = options.claimSpacingMs ?? 3;
    this.horizonMs = options.horizonMs ?? 5_000;
    this.refreshMs = options.refreshMs ?? 1_000;
    this.peekLimit = options.peekLimit ?? 5_000;
  }

  async start(): Promise<void> {
    await this.subscribe();
    this.running = this.run();
  }

  /** Finishes the firing transactions in flight (events published, state committed), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running;
    await this.subscription?.unlisten().catch(() => {});
  }

  private readonly onNotify = (payload: string): void => {
    const dueMs = Number(payload);
    if (!Number.isFinite(dueMs)) return;
    this.dueTimes.add(dueMs);
    if (dueMs - this.offsetMs < this.sleepingUntil) this.wake();
  };

  private async run(): Promise<void> {
    while (!this.stopping) {
      const now = Date.now();
      if (now < this.backoffUntil) {
        await this.sleep(this.backoffUntil);
        continue;
      }
      if (now >= this.nextRefreshAt) {
        try {
          await this.refresh();
          this.succeeded();
        } catch (err) {
          this.failed(err);
          continue;
        }
      }
      const claimAt = this.nextClaimAt();
      const canClaim = !this.claiming && this.inFlight.size < this.workers;
      if (canClaim && claimAt <= Date.now()) {
        this.startClaim();
        continue;
      }
      // Blocked by a claim in flight: its progress wakes us. Otherwise sleep until something is due.
      await this.sleep(Math.min(canClaim ? claimAt : Number.POSITIVE_INFINITY, this.nextRefreshAt));
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Local time at which the next claim should start. */
  private nextClaimAt(): number {
    if (this.backlog) return Date.now();
    const next = this.dueTimes.peek();
    if (next === undefined) return Number.POSITIVE_INFINITY;
    return next - this.offsetMs + (this.inFlight.size > 0 ? this.claimSpacingMs : 0);
  }

  private startClaim(): void {
    this.claiming = true;
    const before = Date.now();
    const transaction = fireBatch({
      db: this.options.db,
      publisher: this.options.publisher,
      streamPrefix: this.options.streamPrefix,
      routing: this.options.routing,
      systemEvents: this.options.systemEvents ?? new Set(),
      logger: this.options.logger,
      stats: this.options.stats,
      batchSize: this.batchSize,
      onClaimed: () => {
        this.claiming = false;
        this.wake();
      },
    })
      .then((result) => {
        this.claimed(result, before);
        this.succeeded();
      })
      .catch((err: unknown) => this.failed(err))
      .finally(() => {
        this.claiming = false;
        this.inFlight.delete(transaction);
        this.wake();
      });
    this.inFlight.add(transaction);
  }

  private claimed(result: BatchResult, before: number): void {
    this.backlog = result.claimed >= this.batchSize;
    // Everything due by the database clock at this claim was claimed, or is held elsewhere.
    this.dueTimes.dropThrough(result.dbNowMs);
    const horizon = result.dbNowMs + this.horizonMs;
    for (const dueMs of result.nextDueTimes) if (dueMs < horizon) this.dueTimes.add(dueMs);
    const next = this.dueTimes.peek();
    if (result.claimed === 0 && next !== undefined && next - this.offsetMs <= Date.now()) {
      // Woke before the database clock reached the due time: re-measure the offset.
      this.offsetMs = result.dbNowMs - before;
    }
    if (result.claimed > 0 && this.options.logger.isLevelEnabled('debug')) {
      const ms = (n: number) => Math.round(n * 10) / 10;
      this.options.logger.debug(
        {
          claimed: result.claimed,
          lagMs: ms(result.dbNowMs - result.oldestDueMs),
          ms: {
            claim: ms(result.timings.claim),
            publish: ms(result.timings.publish),
            update: ms(result.timings.update),
            total: ms(Date.now() - before),
          },
        },
        'fired timers',
      );
    }
  }

  /** Loads the due times of the next `horizonMs` (and any overdue ones) into the heap of due times. */
  private async refresh(): Promise<void> {
    const before = Date.now();
    this.options.stats.peeks++;
    this.options.stats.statements++;
    const { dbNowMs, dueTimes } = await peekDueTimes(this.options.db, this.horizonMs, this.peekLimit);
    const after = Date.now();
    this.offsetMs = dbNowMs - (before + after) / 2;
    for (const dueMs of dueTimes) this.dueTimes.add(dueMs);
    this.nextRefreshAt = after + this.refreshMs;
    const last = dueTimes[dueTimes.length - 1];
    // A full page: query again before the heap runs out of what it knows.
    if (dueTimes.length >= this.peekLimit && last !== undefined) {
      this.nextRefreshAt = Math.max(after + 100, Math.min(this.nextRefreshAt, last - this.offsetMs));
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    // Capped low: a range query a second or two apart costs nothing.
    this.backoffUntil = Date.now() + retryDelayMs(this.failures, 250, 2_000);
    if (this.failures === 1 || this.failures % 20 === 0) {
      this.options.logger.warn(
        { err, failures: this.failures },
        'scheduler cannot reach the database; retrying (timers fire once it is back)',
      );
    }
  }

  private succeeded(): void {
    if (this.failures === 0) return;
    this.options.logger.info({ failures: this.failures }, 'scheduler reached the database again');
    this.failures = 0;
    this.nextRefreshAt = 0;
    // Notifications sent while the connection was down are lost, and a LISTEN that could not be
    // re-established after a reconnect is gone: listen afresh.
    const old = this.subscription;
    this.subscription = undefined;
    void (async () => {
      await old?.unlisten().catch(() => {});
      await this.subscribe();
    })();
  }

  private async subscribe(): Promise<void> {
    try {
      this.subscription = await this.options.listen(TIMER_NOTIFY_CHANNEL, this.onNotify);
    } catch (err) {
      this.options.logger.warn({ err }, 'LISTEN failed; near timers are found by the range query only');
    }
  }

  private sleep(untilMs: number): Promise<void> {
    const ms = untilMs - Date.now();
    if (this.stopping || ms <= 0) return Promise.resolve();
    this.sleepingUntil = untilMs;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.sleepingUntil = Number.POSITIVE_INFINITY;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      this.wakeUp = done;
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }
}
