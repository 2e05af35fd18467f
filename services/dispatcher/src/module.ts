import type { ServiceModule } from '@fuze/runtime';
import { startDispatcher } from './dispatcher.js';
import { environmentSecretStore } from './secrets.js';

/**
 * The dispatcher: partitioned, ordered delivery of matched events to http and nats targets,
 * retries per target policy, dead-lettering. Any number of instances share the work.
 */
export const dispatcherModule: ServiceModule = {
  name: 'dispatcher',
  async start(context) {
    const dispatcher = await startDispatcher({
      nc: context.nats,
      js: context.js,
      publisher: context.publisher,
      db: context.database.db,
      streamPrefix: context.config.streams.prefix,
      deliveryStream: context.streams.delivery,
      secrets: environmentSecretStore(process.env),
      logger: context.logger,
    });
    return { stop: () => dispatcher.stop() };
  },
};
