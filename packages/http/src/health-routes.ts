import type { FastifyInstance } from 'fastify';

/** Whether each dependency answers right now, e.g. `{ nats: true, postgres: false }`. */
export type ReadinessProbe = () => Promise<Record<string, boolean>>;

/** `GET /healthz`: the process is up. `GET /readyz`: 200 only when every dependency answers. */
export async function healthRoutes(
  app: FastifyInstance,
  options: { readiness: ReadinessProbe },
): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await options.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
