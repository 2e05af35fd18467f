import type { EventRouting, Logger, SystemEventType } from '@fuze/core';
import type { Database } from '@fuze/db';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DelayedIntake } from './delayed-intake.js';
import type { EventPublisher } from './fire-batch.js';
import { FiringLoop, type FiringLoopOptions } from './firing-loop.js';
import { emptyStats, type SchedulerStats } from './scheduler-stats.js';

export interface SchedulerOptions {
  database: Database;
  publisher: EventPublisher;
  js: JetStreamClient;
  jsm: JetStreamManager;
  streamPrefix: string;
  /** The deployment's routing (`ServiceContext.routing`): which routing shard each event goes to. */
  routing: EventRouting;
  /** FUZE_SYSTEM_EVENTS (default: none). */
  systemEvents?: ReadonlySet<SystemEventType>;
  /** The delayed stream (`<P>_DELAYED`); without it, delayed delivery is not taken in. */
  delayedStream?: string | undefined;
  logger: Logger;
  /** Tuning of the firing loop (batch size, parallel claims, horizon). */
  tuning?: Pick<FiringLoopOptions, 'batchSize' | 'workers' | 'horizonMs' | 'refreshMs' | 'peekLimit'>;
}

export interface RunningScheduler {
  readonly stats: Readonly<SchedulerStats>;
  /** Stops taking held events and claiming timers; finishes the batches in flight. */
  stop(): Promise<void>;
}

/**
 * One scheduler instance: the firing loop (timers due -> events stream) and the intake of held
 * events (delayed stream -> timers). Stateless beyond its heap of due times: any number may run.
 */
export async function startScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const stats = emptyStats();
  const embedded = options.database.driver === 'pglite';
  const loop = new FiringLoop({
    db: options.database.db,
    listen: (channel, onNotify) => options.database.listen(channel, onNotify),
    publisher: options.publisher,
    streamPrefix: options.streamPrefix,
    routing: options.routing,
    systemEvents: options.systemEvents,
    logger: options.logger,
    stats,
    // PGlite has one connection: parallel claims would only queue behind each other.
    ...(embedded ? { workers: 1 } : {}),
    ...options.tuning,
  });
  const intake = options.delayedStream
    ? new DelayedIntake({
        js: options.js,
        jsm: options.jsm,
        db: options.database.db,
        streamPrefix: options.streamPrefix,
        stream: options.delayedStream,
        logger: options.logger,
        stats,
      })
    : undefined;
  await loop.start();
  try {
    await intake?.start();
  } catch (err) {
    await loop.stop();
    throw err;
  }
  return {
    stats,
    async stop() {
      await intake?.stop();
      await loop.stop();
      options.logger.info({ stats }, 'scheduler stopped');
    },
  };
}
