import { createAjv, FuzeError } from '@fuze/core';
import { type FuzeDb, listEventSchemas, putEventSchema } from '@fuze/db';
import { requireScope } from '@fuze/http';
import type { FastifyInstance } from 'fastify';

const problem = { $ref: 'problem#' };

/** JSON Schemas for event `data` per CloudEvent type; the gateway picks changes up within seconds. */
export async function schemasRoutes(app: FastifyInstance, options: { db: FuzeDb }): Promise<void> {
  const ajv = createAjv();
  app.get(
    '/v1/schemas',
    {
      preHandler: requireScope('schemas:read'),
      schema: { tags: ['schemas'], summary: 'List registered event data schemas' },
    },
    async () => ({
      items: (await listEventSchemas(options.db)).map(({ type, schema }) => ({ type, schema })),
    }),
  );
  app.put<{ Params: { type: string }; Body: Record<string, unknown> }>(
    '/v1/schemas/:type',
    {
      preHandler: requireScope('schemas:write'),
      schema: {
        tags: ['schemas'],
        summary: 'Register or replace the JSON Schema that `data` of this event type must match',
        params: {
          type: 'object',
          properties: { type: { type: 'string', minLength: 1 } },
          required: ['type'],
        },
        body: { type: 'object' },
        response: { 400: problem },
      },
    },
    async (request, reply) => {
      try {
        ajv.compile(request.body);
      } catch (err) {
        throw new FuzeError('FUZE_SCHEMA_INVALID', `the schema does not compile: ${(err as Error).message}`);
      }
      await putEventSchema(options.db, request.params.type, request.body);
      return reply.code(200).send({ type: request.params.type, schema: request.body });
    },
  );
}
