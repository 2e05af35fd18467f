import { FuzeError } from '@fuze/core';
import {
  cancelReplayJob,
  createReplayJob,
  type DeadLetterSelection,
  type FuzeDb,
  getReplayJob,
  isEmptyDeadLetterFilter,
  type ReplayJobKind,
  replayJobNotFound,
} from '@fuze/db';
import { hasScope, missingScope, type Principal, requireScope, type Scope } from '@fuze/http';
import type { FastifyInstance } from 'fastify';
import {
  deadLetterSchema,
  type FilterQuery,
  filterProperties,
  problem,
  replayJobSchema,
  skippedSchema,
} from './dlq-schemas.js';
import { deadLetterView, filterOf, replayJobView } from './dlq-views.js';
import { loadTargetCatalog } from './target-catalog.js';

export interface ReplayRoutesOptions {
  db: FuzeDb;
}

interface ReplayBody {
  id?: string;
  ids?: string[];
  filter?: FilterQuery;
  all?: boolean;
  dryRun?: boolean;
  target?: string;
  ratePerSecond?: number;
  force?: boolean;
}

const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

const deadLetterId = { type: 'string', minLength: 1, maxLength: 128 } as const;

/**
 * Replay jobs: `POST /v1/dlq/replay` creates one over an id, a list of ids or a filter and
 * returns at once (the admin service's replay worker runs it); `GET /v1/replays/:id` shows its
 * progress; `DELETE` cancels it.
 */
export async function replayRoutes(app: FastifyInstance, options: ReplayRoutesOptions): Promise<void> {
  app.post<{ Body: ReplayBody }>(
    '/v1/dlq/replay',
    {
      preHandler: requireScope('dlq:write'),
      schema: {
        tags: ['dlq'],
        summary: 'Replay dead letters (an id, a list of ids, or a filter) as a background job',
        description:
          'Entries are republished to DELIVERY in the order the bus accepted their events, with their ' +
          'original event id and a replay marker. Entries already replayed are refused unless `force`.',
        body: {
          type: 'object',
          additionalProperties: false,
          description: 'Exactly one of id, ids or filter.',
          properties: {
            id: deadLetterId,
            ids: { type: 'array', items: deadLetterId, minItems: 1, maxItems: 10_000 },
            filter: { type: 'object', additionalProperties: false, properties: filterProperties },
            all: {
              type: 'boolean',
              description: 'with an empty filter: replay every replayable dead letter',
            },
            dryRun: {
              type: 'boolean',
              description: 'count and sample what would be replayed; replay nothing',
            },
            target: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: "replay to this target instead of each entry's own",
            },
            ratePerSecond: {
              type: 'integer',
              minimum: 1,
              maximum: 100_000,
              description: 'at most this many per second',
            },
            force: { type: 'boolean', description: 'replay entries that were already replayed successfully' },
          },
        },
        response: {
          200: {
            description: 'dry run',
            type: 'object',
            properties: {
              id: { type: 'string' },
              dryRun: { type: 'boolean' },
              total: { type: 'integer' },
              skipped: skippedSchema,
              sample: { type: 'array', items: deadLetterSchema },
            },
          },
          202: {
            description: 'the job was created; follow it at /v1/replays/{id}',
            type: 'object',
            properties: {
              id: { type: 'string' },
              state: { type: 'string' },
              total: { type: 'integer' },
              skipped: skippedSchema,
            },
          },
          400: problem,
          404: problem,
          409: problem,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const selection = selectionOf(body);
      if (body.target !== undefined) {
        const catalog = await loadTargetCatalog(options.db);
        if (!catalog.hasTarget(body.target)) {
          throw new FuzeError('FUZE_UNKNOWN_TARGET', `no rule defines a target named ${body.target}`, {
            details: { target: body.target },
          });
        }
      }
      const created = await createReplayJob(options.db, {
        selection,
        target: body.target,
        ratePerSecond: body.ratePerSecond,
        force: body.force === true,
        dryRun: body.dryRun === true,
        principal: request.principal?.id ?? 'anonymous',
      });
      if (body.dryRun) {
        return reply.code(200).send({
          id: created.job.id,
          dryRun: true,
          total: created.job.total,
          skipped: created.skipped,
          sample: created.sample.map(deadLetterView),
        });
      }
      reply.header('location', `/v1/replays/${created.job.id}`);
      return reply.code(202).send({
        id: created.job.id,
        state: created.job.state,
        total: created.job.total,
        skipped: created.skipped,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/replays/:id',
    {
      preHandler: requireScope('dlq:read', 'events:replay'),
      schema: {
        tags: ['dlq', 'archive'],
        summary: 'A replay job (dead letters or archive): state and progress',
        description: 'Needs `dlq:read` for a dead-letter replay, `events:replay` for an archive replay.',
        params: jobParams,
        response: { 200: replayJobSchema, 403: problem, 404: problem },
      },
    },
    async (request) => {
      const job = await getReplayJob(options.db, request.params.id);
      if (!job) throw replayJobNotFound(request.params.id);
      checkJobScope(request.principal, job.kind, 'read');
      return replayJobView(job);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/replays/:id',
    {
      preHandler: requireScope('dlq:write', 'events:replay'),
      schema: {
        tags: ['dlq', 'archive'],
        summary:
          'Cancel a replay job; dead letters not yet replayed go back to the DLQ as they were, an archive replay stops after its page in flight',
        description: 'Needs `dlq:write` for a dead-letter replay, `events:replay` for an archive replay.',
        params: jobParams,
        response: { 200: replayJobSchema, 403: problem, 404: problem, 409: problem },
      },
    },
    async (request) => {
      const job = await getReplayJob(options.db, request.params.id);
      if (!job) throw replayJobNotFound(request.params.id);
      checkJobScope(request.principal, job.kind, 'write');
      return replayJobView(
        await cancelReplayJob(options.db, request.params.id, request.principal?.id ?? 'anonymous'),
      );
    },
  );
}

/** A dead-letter job needs the dlq scopes; an archive replay `events:replay`. */
function checkJobScope(
  principal: Principal | undefined,
  kind: ReplayJobKind,
  access: 'read' | 'write',
): void {
  const scope: Scope = kind === 'archive' ? 'events:replay' : access === 'read' ? 'dlq:read' : 'dlq:write';
  if (principal && !hasScope(principal, scope)) throw missingScope(scope);
}

function selectionOf(body: ReplayBody): DeadLetterSelection {
  const given = [body.id, body.ids, body.filter].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new FuzeError('FUZE_INVALID_REQUEST', 'body: give exactly one of id, ids or filter', {
      details: { problems: [{ pointer: 'body', message: 'give exactly one of id, ids or filter' }] },
    });
  }
  if (body.id !== undefined) return { ids: [body.id] };
  if (body.ids !== undefined) return { ids: body.ids };
  const filter = filterOf(body.filter ?? {});
  if (isEmptyDeadLetterFilter(filter) && body.all !== true) {
    throw new FuzeError(
      'FUZE_FILTER_REQUIRED',
      'an empty filter would replay every dead letter: give a filter, or all: true',
    );
  }
  return { filter };
}
