import { type PinoLogger, streamNames } from '@fuze/core';
import type { FuzeDb } from '@fuze/db';
import { type Authenticator, bearerAuth, createHttpApp, healthRoutes, type ReadinessProbe } from '@fuze/http';
import type { ServiceContext } from '@fuze/runtime';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { archiveRoutes } from './archive/index.js';
import { busesRoutes } from './buses/index.js';
import { consoleRoutes } from './console-routes.js';
import { deadLetterRoutes } from './dlq/index.js';
import { keysRoutes } from './keys-routes.js';
import { openapi } from './openapi.js';
import { problemSchema } from './problem-schema.js';
import { stateRoutes } from './processors/index.js';
import { rulesRoutes, ruleTestingRoutes } from './rules/index.js';
import { schemasRoutes } from './schemas-routes.js';
import { tailRoutes } from './tail/index.js';
import { targetsRoutes } from './targets/index.js';
import { timersRoutes } from './timers/index.js';
import { refuseUnstorableInput } from './unstorable-input.js';

export interface AdminDeps {
  logger: PinoLogger;
  db: FuzeDb;
  nats: NatsConnection;
  /** JetStream management: the DLQ routes read and delete dead-letter records. */
  jsm: ServiceContext['jsm'];
  /** JetStream: the live tail reads the events stream through its own ordered consumers. */
  js: ServiceContext['js'];
  /** FUZE_STREAM_PREFIX: for control notices (rule revisions). */
  prefix: string;
  authenticator: Authenticator;
  readiness: ReadinessProbe;
  /** FUZE_HTTP_REQUEST_TIMEOUT; default 30 s. */
  requestTimeoutMs?: number;
  /** FUZE_TRACE_URL: where the console links a trace id. */
  traceUrl?: string | undefined;
}

/** The admin API, not listening (tests `inject()` into it). */
export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const app = createHttpApp({ logger: deps.logger, requestTimeoutMs: deps.requestTimeoutMs });
  app.addSchema({ $id: 'problem', ...problemSchema });
  app.register(refuseUnstorableInput);
  app.register(openapi);
  app.register(bearerAuth, { authenticator: deps.authenticator });
  app.register(healthRoutes, { readiness: deps.readiness });
  app.register(consoleRoutes, { traceUrl: deps.traceUrl });
  app.register(schemasRoutes, { db: deps.db });
  app.register(keysRoutes, { db: deps.db });
  app.register(rulesRoutes, { db: deps.db, nats: deps.nats, streamPrefix: deps.prefix });
  app.register(ruleTestingRoutes, { db: deps.db });
  app.register(timersRoutes, { db: deps.db });
  app.register(stateRoutes, { nats: deps.nats, streamPrefix: deps.prefix });
  app.register(deadLetterRoutes, { db: deps.db, jsm: deps.jsm, streamPrefix: deps.prefix });
  app.register(busesRoutes, { db: deps.db, nats: deps.nats, streamPrefix: deps.prefix });
  app.register(targetsRoutes, {
    db: deps.db,
    nats: deps.nats,
    jsm: deps.jsm,
    streamPrefix: deps.prefix,
  });
  app.register(archiveRoutes, { db: deps.db, jsm: deps.jsm, eventsStream: streamNames(deps.prefix).events });
  app.register(tailRoutes, {
    js: deps.js,
    eventsStream: streamNames(deps.prefix).events,
    streamPrefix: deps.prefix,
    logger: deps.logger,
  });
  return app;
}
