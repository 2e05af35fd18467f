import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** OpenAPI 3 generated from the route schemas; JSON at /docs/json, UI at /docs. */
export const openapi = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Fuze admin API',
          version: '1',
          description:
            'Rules, dead letters, replays (of dead letters and of the archive), timers, processor state, schemas, API keys, and the live tail of a bus.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'fuze-openapi' },
);
