import type { PinoLogger } from '@fuze/core';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { problemDetails } from './problem-details.js';

/**
 * A fastify instance with Fuze's logger and problem+json errors, not listening: callers
 * register their routes, tests use `inject()`, `main` listens.
 */
export function createHttpApp(options: { logger: PinoLogger; bodyLimit?: number }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request logs would dominate the ingest path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  app.register(problemDetails);
  return app;
}
