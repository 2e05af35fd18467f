import type { ServiceModule } from '@fuze/runtime';
import { buildGatewayApp } from './build-gateway-app.js';
import { EventSchemaRegistry } from './event-schema-registry.js';

/** The gateway: HTTP ingest of CloudEvents into the events stream. */
export const gatewayModule: ServiceModule = {
  name: 'gateway',
  async start(context) {
    const schemas = new EventSchemaRegistry({
      dir: context.config.gateway.schemasDir,
      db: context.database.db,
      logger: context.logger,
    });
    await schemas.start();
    const app = buildGatewayApp({ ...context, schemas });
    const address = await app.listen({
      host: context.config.http.host,
      port: context.config.http.gatewayPort,
    });
    context.logger.info({ address }, 'gateway listening');
    return {
      address,
      async stop() {
        // close() stops accepting and waits for in-flight requests, which wait for their acks.
        await app.close();
        schemas.stop();
      },
    };
  },
};
