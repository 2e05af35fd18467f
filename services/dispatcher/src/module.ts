import type { ServiceModule } from '@fuze/runtime';

/**
 * The dispatcher: partitioned delivery to targets, retries and dead-lettering (the delivery issue fills it).
 * Wired into `fuze serve` with its real dependencies; it has no work of its own yet.
 */
export const dispatcherModule: ServiceModule = {
  name: 'dispatcher',
  needs: ['nats', 'database'],
  async start(context) {
    context.logger.debug('dispatcher has no work yet');
    return { async stop() {} };
  },
};
