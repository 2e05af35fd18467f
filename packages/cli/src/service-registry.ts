import { adminModule } from '@fuze/admin';
import { dispatcherModule } from '@fuze/dispatcher';
import { gatewayModule } from '@fuze/gateway';
import { routerModule } from '@fuze/router';
import type { ServiceModule, ServiceName } from '@fuze/runtime';
import { schedulerModule } from '@fuze/scheduler';

/** Every service `fuze serve` can run; the one list of them. */
export const serviceModules: Record<ServiceName, ServiceModule> = {
  gateway: gatewayModule,
  router: routerModule,
  dispatcher: dispatcherModule,
  scheduler: schedulerModule,
  admin: adminModule,
};
