import type { RunningService, ServiceContext } from '@fuze/runtime';
import type { FastifyInstance } from 'fastify';
import { deadLetterAnnouncer } from './dead-letter-announcer.js';
import { startDlqIndexer } from './dlq-indexer.js';
import { type DlqRoutesOptions, dlqRoutes } from './dlq-routes.js';
import { replayRoutes } from './replay-routes.js';
import { startReplayWorker } from './replay-worker.js';

export { type DeadLetterAnnouncer, deadLetterAnnouncer } from './dead-letter-announcer.js';
export { type DlqIndexerOptions, type RunningDlqIndexer, startDlqIndexer } from './dlq-indexer.js';
export { type ReplayWorkerOptions, type RunningReplayWorker, startReplayWorker } from './replay-worker.js';

/** The DLQ and replay routes (one registration in the admin app). */
export async function deadLetterRoutes(app: FastifyInstance, options: DlqRoutesOptions): Promise<void> {
  await app.register(dlqRoutes, options);
  await app.register(replayRoutes, { db: options.db });
}

/** The DLQ consumer shared by every admin instance. */
export function dlqIndexerName(prefix: string): string {
  return `${prefix}_DLQ_INDEXER`;
}

/**
 * The admin service's background work over the DLQ: the indexer (DLQ stream -> Postgres) and
 * the replay worker. Both may run in any number of admin instances.
 */
export async function startDeadLetterServices(context: ServiceContext): Promise<RunningService> {
  const prefix = context.config.streams.prefix;
  const indexer = await startDlqIndexer({
    db: context.database.db,
    js: context.js,
    jsm: context.jsm,
    dlqStream: context.streams.dlq,
    consumerName: dlqIndexerName(prefix),
    announce: deadLetterAnnouncer({
      db: context.database.db,
      publisher: context.publisher,
      prefix,
      routing: context.routing,
      systemEvents: context.config.systemEvents,
    }),
    logger: context.logger.child({ component: 'dlq-indexer' }),
  });
  const worker = await startReplayWorker({
    database: context.database,
    jsm: context.jsm,
    publisher: context.publisher,
    prefix,
    routing: context.routing,
    dlqStream: context.streams.dlq,
    archive: {
      js: context.js,
      jsm: context.jsm,
      eventsStream: context.streams.events,
      maxPayloadBytes: () => context.nats.info?.max_payload ?? 1024 * 1024,
      logger: context.logger.child({ component: 'archive-replay' }),
    },
    systemEvents: context.config.systemEvents,
    logger: context.logger.child({ component: 'replay-worker' }),
  });
  return {
    async stop() {
      await worker.stop();
      await indexer.stop();
    },
  };
}
