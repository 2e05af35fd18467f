import type { JetStreamPublisher } from '@fuze/bus';
import type { EventRouting, FuzeConfig, PinoLogger } from '@fuze/core';
import { type Authenticator, bearerAuth, createHttpApp, healthRoutes, type ReadinessProbe } from '@fuze/http';
import type { FastifyInstance } from 'fastify';
import type { EventSchemaRegistry } from './event-schema-registry.js';
import { eventsRoutes } from './events-routes.js';
import { EventIngestor } from './ingest.js';

export interface GatewayDeps {
  config: FuzeConfig;
  logger: PinoLogger;
  publisher: JetStreamPublisher;
  routing: EventRouting;
  schemas: EventSchemaRegistry;
  authenticator: Authenticator;
  readiness: ReadinessProbe;
}

/** The gateway's HTTP app, not listening (tests `inject()` into it). */
export function buildGatewayApp(deps: GatewayDeps): FastifyInstance {
  const app = createHttpApp({ logger: deps.logger, requestTimeoutMs: deps.config.http.requestTimeoutMs });
  const ingestor = new EventIngestor({
    publisher: deps.publisher,
    schemas: deps.schemas,
    streamPrefix: deps.config.streams.prefix,
    routing: deps.routing,
    maxEventBytes: deps.config.gateway.maxEventBytes,
    publishTimeoutMs: deps.config.gateway.publishTimeoutMs,
  });
  app.register(bearerAuth, { authenticator: deps.authenticator });
  app.register(healthRoutes, { readiness: deps.readiness });
  app.register(eventsRoutes, {
    ingestor,
    maxEventBytes: deps.config.gateway.maxEventBytes,
    maxBatchEvents: deps.config.gateway.maxBatchEvents,
  });
  return app;
}
