import { FuzeError, formatDuration } from '@fuze/core';
import {
  cancelTimer,
  type FuzeDb,
  getTimer,
  listTimers,
  putTimer,
  type TimerRow,
  timerStates,
} from '@fuze/db';
import { requireScope } from '@fuze/http';
import { armTimer, misfirePolicies, parseTimerRequest, type TimerRequest } from '@fuze/timers';
import type { FastifyInstance } from 'fastify';

const problem = { $ref: 'problem#' };
const traceparentPattern = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

const keyParams = {
  type: 'object',
  required: ['key'],
  properties: {
    key: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'The timer key: letters, digits and _ . : @ - (e.g. cert-renew:example.com)',
    },
  },
} as const;

const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** A timer as the API shows it. */
const timerSchema = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    bus: { type: 'string' },
    origin: {
      type: 'string',
      enum: ['api', 'schedule', 'delayed'],
      description: 'api: set through this API; schedule: a YAML `kind: Schedule`; delayed: a held event',
    },
    state: { type: 'string', enum: [...timerStates] },
    event: {
      type: 'object',
      additionalProperties: true,
      description: 'The CloudEvent published at each firing (id, specversion and time are set then)',
    },
    schedule: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['at', 'cron', 'rate'] },
        at: { type: 'string', description: 'one-shot due time (a `delay` is resolved into it)' },
        delay: { type: 'string', description: 'the delay it was put with, if any' },
        cron: { type: 'string' },
        timezone: { type: 'string' },
        rate: { type: 'string' },
      },
    },
    misfire: { type: 'string', enum: [...misfirePolicies] },
    misfireGrace: { type: 'string' },
    nextFireAt: { ...nullableTime, description: 'next due time; null when nothing is due' },
    lastDueAt: { ...nullableTime, description: 'due time of the last firing (its event `time`)' },
    lastFiredAt: { ...nullableTime, description: 'when the last firing was committed' },
    fireCount: { type: 'integer' },
    generation: { type: 'integer', description: 'bumped by every replace and cancel' },
    lastError: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const putBody = {
  type: 'object',
  required: ['event'],
  additionalProperties: false,
  description: 'Exactly one of at, delay, cron (with an optional timezone) or rate.',
  properties: {
    event: {
      type: 'object',
      required: ['type', 'source'],
      additionalProperties: true,
      description: 'A CloudEvent without id, specversion and time; extensions sit beside the attributes',
      properties: {
        type: { type: 'string', minLength: 1 },
        source: { type: 'string', minLength: 1 },
        subject: { type: 'string' },
        datacontenttype: { type: 'string' },
        dataschema: { type: 'string' },
        data: {},
      },
    },
    at: { type: 'string', description: 'fire once at this RFC 3339 time, e.g. 2030-01-01T09:00:00Z' },
    delay: { type: 'string', description: 'fire once after this duration, e.g. 30s, 15m, 30d' },
    cron: { type: 'string', description: 'five-field cron, e.g. "0 9 * * MON-FRI"' },
    timezone: { type: 'string', description: 'IANA time zone of cron (default UTC), e.g. Europe/Paris' },
    rate: { type: 'string', description: 'fire every period (at least 1s), e.g. 6h' },
    misfire: {
      type: 'string',
      enum: [...misfirePolicies],
      description: 'after an outage longer than misfireGrace: fire-once (default), fire-all or skip',
    },
    misfireGrace: {
      type: 'string',
      description: 'how late a firing may be before it is a misfire (default 60s)',
    },
    bus: { type: 'string', description: 'the bus the event enters (default: default)' },
  },
} as const;

/**
 * Timers: `PUT` creates or atomically replaces (re-arms) a timer, `GET` reads one or lists them,
 * `DELETE` cancels (the record stays, state `cancelled`). A replace or cancel racing with a firing
 * waits for it: the firing's event is published once and the change applies after it.
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
      const header = request.headers.traceparent;
      const traceparent = typeof header === 'string' && traceparentPattern.test(header) ? header : undefined;
      const { timer, created } = await putTimer(options.db, (nowMs) => ({
        ...armTimer(spec, nowMs),
        origin: 'api',
        state: 'scheduled',
        traceparent,
      }));
      return reply.code(created ? 201 : 200).send(timerView(timer));
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
            cursor: { type: 'string', description: "the previous page's nextCursor" },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: timerSchema },
              nextCursor: { type: 'string', description: 'absent on the last page' },
            },
          },
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

function notFound(key: string): FuzeError {
  return new FuzeError('FUZE_TIMER_NOT_FOUND', `no timer has the key "${key}"`, { details: { key } });
}

function timerView(timer: TimerRow) {
  const s = timer.schedule;
  const schedule =
    s.kind === 'at'
      ? { kind: s.kind, at: s.at, ...(s.delayMs === undefined ? {} : { delay: formatDuration(s.delayMs) }) }
      : s.kind === 'cron'
        ? { kind: s.kind, cron: s.cron, timezone: s.timezone }
        : { kind: s.kind, rate: formatDuration(s.rateMs) };
  return {
    key: timer.key,
    bus: timer.bus,
    origin: timer.origin,
    state: timer.state,
    event: timer.event,
    schedule,
    misfire: timer.misfire,
    misfireGrace: formatDuration(timer.misfireGraceMs),
    nextFireAt: iso(timer.nextFireAt),
    lastDueAt: iso(timer.lastDueAt),
    lastFiredAt: iso(timer.lastFiredAt),
    fireCount: timer.fireCount,
    generation: timer.generation,
    lastError: timer.lastError,
    createdAt: timer.createdAt.toISOString(),
    updatedAt: timer.updatedAt.toISOString(),
  };
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
