import type { ServiceModule } from '@fuze/runtime';

/**
 * The router: rule matching and fan-out to deliveries (the rules issue fills it).
 * Wired into `fuze serve` with its real dependencies; it has no work of its own yet.
 */
export const routerModule: ServiceModule = {
  name: 'router',
  needs: ['nats', 'database'],
  async start(context) {
    context.logger.debug('router has no work yet');
    return { async stop() {} };
  },
};
