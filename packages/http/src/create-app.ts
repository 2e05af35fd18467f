import { createServer } from 'node:http';
import type { PinoLogger } from '@fuze/core';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { answerClientError } from './client-errors.js';
import { fromFastifyError, problemDetails, sendProblem } from './problem-details.js';

/** Headers must arrive within this (or the request timeout, if shorter). */
const headersTimeoutMs = 10_000;

/**
 * A fastify instance with Fuze's logger and problem+json errors, not listening: callers
 * register their routes, tests use `inject()`, `main` listens. A client that sends its request
 * slowly, or never finishes it, is answered 408 and cut off after `requestTimeoutMs` (default
 * 30 s); Node checks the timeouts every second.
 */
export function createHttpApp(options: {
  logger: PinoLogger;
  bodyLimit?: number;
  requestTimeoutMs?: number;
}): FastifyInstance {
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request logs would dominate the ingest path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // Timer keys are up to 256 characters, rule names 64: fastify's default of 100 is too short.
    routerOptions: { maxParamLength: 1024 },
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout,
          headersTimeout: Math.min(headersTimeoutMs, requestTimeout),
          connectionsCheckingInterval: 1_000,
        },
        handler,
      );
      server.keepAliveTimeout = 72_000; // fastify's own default, which a server factory bypasses
      return server;
    },
    clientErrorHandler: answerClientError,
    // Errors of the router itself (a path parameter over maxParamLength, a malformed URL).
    frameworkErrors: (err, _request, reply) => {
      sendProblem(reply, fromFastifyError(err));
    },
  }) as unknown as FastifyInstance;
  app.register(problemDetails);
  return app;
}
