import { createAjv, FuzeError, linearRegExp } from '@fuze/core';
import { deleteEventSchema, type FuzeDb, listEventSchemas, putEventSchema } from '@fuze/db';
import { requireScope } from '@fuze/http';
import type { FastifyInstance } from 'fastify';

const problem = { $ref: 'problem#' };

/** JSON Schemas for event `data` per CloudEvent type; the gateway picks changes up within seconds. */
export async function schemasRoutes(app: FastifyInstance, options: { db: FuzeDb }): Promise<void> {
  const ajv = createAjv({ regExp: linearRegExp });
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
        // Compiled and dropped: the gateways compile it again when they read it.
        ajv.removeSchema(ajv.compile(request.body).schema as object);
      } catch (err) {
        throw new FuzeError('FUZE_SCHEMA_INVALID', schemaProblem(err as Error));
      }
      await putEventSchema(options.db, request.params.type, request.body);
      return reply.code(200).send({ type: request.params.type, schema: request.body });
    },
  );
  app.delete<{ Params: { type: string } }>(
    '/v1/schemas/:type',
    {
      preHandler: requireScope('schemas:write'),
      schema: {
        tags: ['schemas'],
        summary:
          'Remove the registered schema of this event type (a file schema in FUZE_SCHEMAS_DIR applies again, if any)',
        params: {
          type: 'object',
          properties: { type: { type: 'string', minLength: 1 } },
          required: ['type'],
        },
        response: { 404: problem },
      },
    },
    async (request, reply) => {
      if (!(await deleteEventSchema(options.db, request.params.type))) {
        throw new FuzeError(
          'FUZE_NOT_FOUND',
          `no schema is registered for the event type ${request.params.type}`,
        );
      }
      return reply.code(204).send();
    },
  );
}

/** ajv's message, with what to do when the pattern engine refused a pattern. */
function schemaProblem(err: Error): string {
  if (err.name.startsWith('RE2JS')) {
    return `the schema does not compile: a pattern is not supported (${err.message}). Patterns run on RE2, in time linear in the input: lookaround and backreferences are not available.`;
  }
  return `the schema does not compile: ${err.message}`;
}
