import type { ServiceModule } from '@fuze/runtime';

/**
 * The scheduler: per-record timers firing events at their due time (the timers issue fills it).
 * Wired into `fuze serve` with its real dependencies; it has no work of its own yet.
 */
export const schedulerModule: ServiceModule = {
  name: 'scheduler',
  needs: ['nats', 'database'],
  async start(context) {
    context.logger.debug('scheduler has no work yet');
    return { async stop() {} };
  },
};
