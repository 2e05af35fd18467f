import { FuzeError } from '@fuze/core';
import {
  cancelTimer,
  type FuzeDb,
  fireTimerNow,
  getTimer,
  listTimers,
  putTimer,
  putTimers,
  timerStates,
} from '@fuze/db';
import { requireScope } from '@fuze/http';
import {
  armTimer,
  parseTimerBatch,
  parseTimerRequest,
  type TimerBatchEntry,
  type TimerRequest,
} from '@fuze/timers';
import type { FastifyInstance } from 'fastify';
import { pageQueryProperties, pageSchema } from '../page-schemas.js';
import {
  keyParams,
  problem,
  putBatchBody,
  putBatchResult,
  putBody,
  timerSchema,
  traceparentPattern,
} from './timer-schemas.js';
import { timerView } from './timer-view.js';

/**
 * Timers: `PUT` creates or atomically replaces (re-arms) a timer, `GET` reads one or lists them,
 * `DELETE` cancels (the record stays, state `cancelled`), `POST .../fire` makes it due now. A
 * replace, cancel or fire-now racing with a firing waits for it: the firing's event is published
 * once and the change applies after it.
 */
export async function timersRoutes(app: FastifyInstance, options: { db: FuzeDb }): Promise<void> {
  app.put<{ Params: { key: string }; Body: TimerRequest }>(
    '/v1/timers/:key',
    {
      preHandler: requireScope('timers:write'),
      schema: {
        tags: ['timers'],
        summary: 'Create or replace a timer (a replace re-arms it)',
        params: keyParams,
        body: putBody,
        response: { 200: timerSchema, 201: timerSchema, 400: problem },
      },
    },
    async (request, reply) => {
      const spec = parseTimerRequest(request.params.key, request.body);
      const traceparent = traceparentOf(request.headers.traceparent);
      const { timer, created } = await putTimer(options.db, (nowMs) => ({
        ...armTimer(spec, nowMs),
        origin: 'api',
        state: 'scheduled',
        traceparent,
      }));
      return reply.code(created ? 201 : 200).send(timerView(timer));
    },
  );

  app.put<{ Body: { timers: TimerBatchEntry[] } }>(
    '/v1/timers',
    {
      // 1,000 timers whose events carry a little data do not fit the API's usual 1 MiB.
      bodyLimit: MAX_TIMER_BATCH_BYTES,
      preHandler: requireScope('timers:write'),
      schema: {
        tags: ['timers'],
        summary: 'Create or replace up to 1,000 timers at once, all or none',
        description:
          'At most 1,000 timers and 8 MiB. Every entry is validated first; any problem (each named as timers.<index>.<field>) refuses the whole batch. The timers are then written in one transaction. A key may appear once per batch.',
        body: putBatchBody,
        response: { 200: putBatchResult, 400: problem },
      },
    },
    async (request) => {
      const specs = parseTimerBatch(request.body.timers);
      const traceparent = traceparentOf(request.headers.traceparent);
      const written = await putTimers(options.db, (nowMs) =>
        specs.map((spec) => ({ ...armTimer(spec, nowMs), origin: 'api', state: 'scheduled', traceparent })),
      );
      const created = written.filter((w) => w.created).length;
      return {
        created,
        replaced: written.length - created,
        timers: written.map(({ timer, created }) => ({
          key: timer.key,
          created,
          state: timer.state,
          nextFireAt: timer.nextFireAt?.toISOString() ?? null,
          generation: timer.generation,
        })),
      };
    },
  );

  app.get<{ Params: { key: string } }>(
    '/v1/timers/:key',
    {
      preHandler: requireScope('timers:read'),
      schema: {
        tags: ['timers'],
        summary: 'Read a timer: definition, state, next and last firing, fire count',
        params: keyParams,
        response: { 200: timerSchema, 404: problem },
      },
    },
    async (request) => {
      const timer = await getTimer(options.db, request.params.key);
      if (!timer) throw notFound(request.params.key);
      return timerView(timer);
    },
  );

  app.get<{
    Querystring: {
      prefix?: string;
      dueFrom?: string;
      dueTo?: string;
      state?: (typeof timerStates)[number];
      cursor?: string;
      limit?: number;
    };
  }>(
    '/v1/timers',
    {
      preHandler: requireScope('timers:read'),
      schema: {
        tags: ['timers'],
        summary: 'List timers in key order, a page at a time',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            prefix: { type: 'string', description: 'keys starting with this' },
            dueFrom: { type: 'string', format: 'date-time', description: 'next fire time at or after' },
            dueTo: { type: 'string', format: 'date-time', description: 'next fire time at or before' },
            state: { type: 'string', enum: [...timerStates] },
            ...pageQueryProperties,
          },
        },
        response: {
          200: pageSchema(timerSchema),
          400: problem,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listTimers(options.db, {
        prefix: q.prefix,
        dueFrom: q.dueFrom === undefined ? undefined : new Date(q.dueFrom),
        dueTo: q.dueTo === undefined ? undefined : new Date(q.dueTo),
        state: q.state,
        cursor: q.cursor,
        limit: q.limit,
      });
      return {
        items: page.items.map(timerView),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
      };
    },
  );

  app.post<{ Params: { key: string } }>(
    '/v1/timers/:key/fire',
    {
      preHandler: requireScope('timers:write'),
      schema: {
        tags: ['timers'],
        summary:
          'Fire a scheduled timer now: its next firing moves to now; then a cron or rate timer goes on with its schedule, a one-shot timer completes',
        params: keyParams,
        response: { 200: timerSchema, 404: problem, 409: problem },
      },
    },
    async (request) => {
      const key = request.params.key;
      const timer = await fireTimerNow(options.db, key);
      if (timer) return timerView(timer);
      const existing = await getTimer(options.db, key);
      if (!existing) throw notFound(key);
      throw new FuzeError(
        'FUZE_TIMER_NOT_SCHEDULED',
        `the timer "${key}" is ${existing.state}, not scheduled: it cannot fire now; re-arm it with a PUT first`,
        { details: { key, state: existing.state } },
      );
    },
  );

  app.delete<{ Params: { key: string } }>(
    '/v1/timers/:key',
    {
      preHandler: requireScope('timers:write'),
      schema: {
        tags: ['timers'],
        summary: 'Cancel a timer (the record stays, with state cancelled; a PUT re-arms it)',
        params: keyParams,
        response: { 204: { type: 'null', description: 'cancelled' }, 404: problem },
      },
    },
    async (request, reply) => {
      if (!(await cancelTimer(options.db, request.params.key))) throw notFound(request.params.key);
      return reply.code(204).send();
    },
  );
}

/** The largest body of `PUT /v1/timers`. */
const MAX_TIMER_BATCH_BYTES = 8 * 1024 * 1024;

/** A caller's W3C trace context, kept on the timer so each firing links to where it was set. */
function traceparentOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && traceparentPattern.test(header) ? header : undefined;
}

function notFound(key: string): FuzeError {
  return new FuzeError('FUZE_TIMER_NOT_FOUND', `no timer has the key "${key}"`, { details: { key } });
}
