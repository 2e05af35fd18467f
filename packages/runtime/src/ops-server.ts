import type { Logger } from '@fuze/core';
import { createHttpApp, healthRoutes, type ReadinessProbe } from '@fuze/http';
import type { FastifyInstance } from 'fastify';

/**
 * One small HTTP server per process on FUZE_METRICS_PORT: `/healthz`, `/readyz` (and the
 * metrics endpoint), so services without an API of their own (router, dispatcher, scheduler)
 * can be health-checked and scraped.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  logger: Logger;
  readiness: ReadinessProbe;
  extend?: (app: FastifyInstance) => void;
}): Promise<{ address: string; stop(): Promise<void> }> {
  const app = createHttpApp({ logger: options.logger });
  app.register(healthRoutes, { readiness: options.readiness });
  options.extend?.(app);
  const address = await app.listen({ host: options.host, port: options.port });
  return { address, stop: () => app.close() };
}
