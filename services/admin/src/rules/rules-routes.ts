import { FuzeError } from '@fuze/core';
import { applyRuleChanges, type FuzeDb, getStoredRule, listStoredRules } from '@fuze/db';
import { requireScope } from '@fuze/http';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { flowLimitsProperties } from '../targets/flow-limits-view.js';
import { announceRuleRevisions, applyRuleFiles } from './apply-rule-files.js';

const refList = {
  type: 'array',
  items: { type: 'object', properties: { bus: { type: 'string' }, name: { type: 'string' } } },
};
const keyList = { type: 'array', items: { type: 'string' } };
const applyResult = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    created: refList,
    changed: refList,
    deleted: refList,
    unchanged: refList,
    revisions: { type: 'object', additionalProperties: { type: 'integer' } },
    schedules: {
      type: 'object',
      description: 'Timer keys of the `kind: Schedule` documents, by outcome',
      properties: {
        created: keyList,
        updated: { ...keyList, description: 'changed definition: re-armed' },
        unchanged: { ...keyList, description: 'left alone: not re-armed' },
        pruned: { ...keyList, description: 'no longer declared (with prune): cancelled' },
      },
    },
    buses: {
      type: 'object',
      description: 'Bus names of the `kind: Bus` documents, by outcome',
      properties: {
        created: keyList,
        changed: keyList,
        deleted: { ...keyList, description: 'no longer declared (with prune): back to default settings' },
        unchanged: keyList,
      },
    },
    flowControl: {
      type: 'array',
      description:
        'targets whose rateLimit, maxConcurrency or circuitBreaker the apply changes (or would, on a dry run); before/after null: the target has no rule before/after',
      items: {
        type: 'object',
        properties: {
          target: { type: 'string' },
          before: { type: ['object', 'null'], properties: flowLimitsProperties },
          after: { type: ['object', 'null'], properties: flowLimitsProperties },
        },
      },
    },
    warnings: {
      type: 'array',
      items: { type: 'string' },
      description:
        'what applied but may not do what was meant: e.g. a target ordered by another key than its bus orderingKey',
    },
  },
};
const ruleParams = {
  type: 'object',
  required: ['bus', 'name'],
  properties: { bus: { type: 'string' }, name: { type: 'string' } },
};

/**
 * Rules: list, get, put, delete, and `apply` (what `fuze apply -f` calls).
 * The option is `streamPrefix`, not `prefix`: fastify reads a plugin's `prefix` as a URL prefix.
 */
export async function rulesRoutes(
  app: FastifyInstance,
  options: { db: FuzeDb; nats: NatsConnection; streamPrefix: string },
): Promise<void> {
  const deps = { db: options.db, nats: options.nats, prefix: options.streamPrefix };

  app.post<{ Body: { files: Array<{ path: string; content: string }>; prune?: boolean; dryRun?: boolean } }>(
    '/v1/apply',
    {
      preHandler: requireScope('rules:write'),
      schema: {
        tags: ['rules'],
        summary:
          'Validate rule, schedule and bus YAML files, then apply all of them in one transaction (or nothing)',
        description:
          'Every problem is reported with file:line:column. `kind: Rule` documents become rules, `kind: Schedule` documents timers and `kind: Bus` documents bus settings, in the same transaction. `prune` deletes stored rules, cancels YAML-declared schedules and removes Bus documents, of the buses these files declare that the files no longer contain. `dryRun` reports what would change.',
        body: {
          type: 'object',
          required: ['files'],
          additionalProperties: false,
          properties: {
            files: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['path', 'content'],
                properties: { path: { type: 'string' }, content: { type: 'string' } },
              },
            },
            prune: { type: 'boolean' },
            dryRun: { type: 'boolean' },
          },
        },
        response: { 200: applyResult, 400: { $ref: 'problem#' } },
      },
    },
    async (request) => applyRuleFiles(deps, request.body.files, request.body),
  );

  app.get<{ Querystring: { bus?: string } }>(
    '/v1/rules',
    {
      preHandler: requireScope('rules:read'),
      schema: {
        tags: ['rules'],
        summary: 'List rules',
        querystring: { type: 'object', properties: { bus: { type: 'string' } } },
      },
    },
    async (request) => ({ items: await listStoredRules(options.db, request.query.bus) }),
  );

  app.get<{ Params: { bus: string; name: string } }>(
    '/v1/rules/:bus/:name',
    {
      preHandler: requireScope('rules:read'),
      schema: { tags: ['rules'], summary: 'Get one rule', params: ruleParams },
    },
    async (request) => {
      const rule = await getStoredRule(options.db, request.params.bus, request.params.name);
      if (!rule)
        throw new FuzeError(
          'FUZE_NOT_FOUND',
          `no rule "${request.params.name}" on bus "${request.params.bus}"`,
        );
      return rule;
    },
  );

  app.put<{ Params: { bus: string; name: string }; Body: Record<string, unknown> }>(
    '/v1/rules/:bus/:name',
    {
      preHandler: requireScope('rules:write'),
      schema: {
        tags: ['rules'],
        summary: 'Create or replace one rule (a rule document as JSON, as in the YAML)',
        params: ruleParams,
        body: { type: 'object' },
        response: { 200: applyResult, 400: { $ref: 'problem#' } },
      },
    },
    async (request) => {
      const metadata = (request.body.metadata ?? {}) as { name?: unknown; bus?: unknown };
      if (metadata.name !== request.params.name || (metadata.bus ?? 'default') !== request.params.bus) {
        throw new FuzeError('FUZE_INVALID_REQUEST', 'metadata.name and metadata.bus must match the URL', {
          details: {
            problems: [
              {
                pointer: 'body.metadata',
                message: `expected name "${request.params.name}" on bus "${request.params.bus}"`,
              },
            ],
          },
        });
      }
      // JSON is YAML: the same parser validates it, with the same messages.
      return applyRuleFiles(deps, [
        {
          path: `${request.params.bus}/${request.params.name}.json`,
          content: JSON.stringify(request.body, null, 2),
        },
      ]);
    },
  );

  app.delete<{ Params: { bus: string; name: string } }>(
    '/v1/rules/:bus/:name',
    {
      preHandler: requireScope('rules:write'),
      schema: { tags: ['rules'], summary: 'Delete one rule', params: ruleParams },
    },
    async (request, reply) => {
      const { bus, name } = request.params;
      if (!(await getStoredRule(options.db, bus, name)))
        throw new FuzeError('FUZE_NOT_FOUND', `no rule "${name}" on bus "${bus}"`);
      const revisions = await applyRuleChanges(options.db, { upserts: [], deletes: [{ bus, name }] });
      announceRuleRevisions(deps, Object.fromEntries(revisions));
      return reply.code(204).send();
    },
  );
}
