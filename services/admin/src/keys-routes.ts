import { FuzeError } from '@fuze/core';
import { type FuzeDb, insertApiKey, revokeApiKey } from '@fuze/db';
import { hasScope, issueApiKey, requireScope, type Scope, scopes } from '@fuze/http';
import type { FastifyInstance } from 'fastify';

/** API keys with chosen scopes. The token is returned once, at creation; only its hash is kept. */
export async function keysRoutes(app: FastifyInstance, options: { db: FuzeDb }): Promise<void> {
  app.post<{ Body: { name: string; scopes: string[] } }>(
    '/v1/keys',
    {
      preHandler: requireScope('keys:admin'),
      schema: {
        tags: ['keys'],
        summary: 'Create an API key',
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            scopes: {
              type: 'array',
              items: { type: 'string', enum: [...scopes] },
              minItems: 1,
              uniqueItems: true,
            },
          },
        },
      },
    },
    async (request, reply) => {
      // A key with keys:admin may hand out only the scopes it holds itself: no escalation to all.
      const principal = request.principal;
      const beyond = principal
        ? request.body.scopes.filter((scope) => !hasScope(principal, scope as Scope))
        : [];
      if (beyond.length > 0) {
        throw new FuzeError(
          'FUZE_FORBIDDEN',
          `this token cannot grant ${beyond.join(', ')}: a key may grant only scopes its creator holds (use the admin token, or a key that holds them)`,
          {
            details: {
              problems: beyond.map((scope) => ({ pointer: 'body.scopes', message: `not held: ${scope}` })),
            },
          },
        );
      }
      const key = issueApiKey();
      await insertApiKey(options.db, {
        id: key.id,
        name: request.body.name,
        secretHash: key.secretHash,
        scopes: request.body.scopes,
      });
      return reply
        .code(201)
        .send({ id: key.id, name: request.body.name, scopes: request.body.scopes, token: key.token });
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/v1/keys/:id',
    { preHandler: requireScope('keys:admin'), schema: { tags: ['keys'], summary: 'Revoke an API key' } },
    async (request, reply) => {
      if (!(await revokeApiKey(options.db, request.params.id))) {
        throw new FuzeError('FUZE_NOT_FOUND', `no API key ${request.params.id}`);
      }
      return reply.code(204).send();
    },
  );
}
