import type { ServiceModule } from '@fuze/runtime';
import { startScheduler } from './scheduler.js';

/**
 * The scheduler: per-record timers fire events into the bus at their due time, and events held
 * for delayed delivery enter it at theirs. Run as many instances as you like (Postgres decides
 * which one fires each timer); with embedded PGlite, one.
 */
export const schedulerModule: ServiceModule = {
  name: 'scheduler',
  async start(context) {
    const scheduler = await startScheduler({
      database: context.database,
      publisher: context.publisher,
      js: context.js,
      jsm: context.jsm,
      streamPrefix: context.config.streams.prefix,
      routing: context.routing,
      systemEvents: context.config.systemEvents,
      delayedStream: context.streams.delayed,
      logger: context.logger,
    });
    return { stop: () => scheduler.stop() };
  },
};
