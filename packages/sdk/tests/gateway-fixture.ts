import { JetStreamPublisher } from '@fuze/bus';
import { createLogger, defaultRouting, loadConfig } from '@fuze/core';
import { type Database, openDatabase, putEventSchema } from '@fuze/db';
// biome-ignore lint/style/noRestrictedImports: the HTTP path is tested against the real gateway.
import { buildGatewayApp, EventSchemaRegistry } from '@fuze/gateway';
import { createTokenAuthenticator } from '@fuze/http';
import type { NatsConnection } from '@nats-io/transport-node';

export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

/**
 * The real gateway app on 127.0.0.1:<free port>, over its own JetStreamPublisher and an in-memory
 * PGlite database; `schemas` are the JSON Schemas for data, by event type.
 */
export async function startGateway(options: {
  nc: NatsConnection;
  prefix: string;
  adminToken?: string;
  schemas?: Record<string, unknown>;
}): Promise<RunningGateway> {
  const config = loadConfig({
    FUZE_STREAM_PREFIX: options.prefix,
    FUZE_ADMIN_TOKEN: options.adminToken,
    FUZE_SCHEMAS_DIR: '/nonexistent/fuze-sdk-tests',
  });
  const logger = createLogger('silent');
  const database: Database = await openDatabase({});
  const schemas = new EventSchemaRegistry({ dir: config.gateway.schemasDir, db: database.db, logger });
  for (const [type, schema] of Object.entries(options.schemas ?? {})) {
    await putEventSchema(database.db, type, schema);
  }
  await schemas.start();
  const publisher = new JetStreamPublisher(options.nc);
  const app = buildGatewayApp({
    config,
    logger,
    publisher,
    routing: defaultRouting,
    schemas,
    authenticator: createTokenAuthenticator({ adminToken: config.auth.adminToken }),
    readiness: async () => ({ nats: true, postgres: true }),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async stop() {
      await app.close();
      schemas.stop();
      await publisher.close();
      await database.close();
    },
  };
}
