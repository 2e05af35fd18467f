import {
  busEventsFilter,
  busNamePattern,
  defaultBus,
  FuzeError,
  type Logger,
  parseInstantOrAgo,
} from '@fuze/core';
import { requireScope } from '@fuze/http';
import type { CompiledPattern } from '@fuze/rules';
import type { ServiceContext } from '@fuze/runtime';
import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../invalid-request.js';
import { compileRequestPattern } from '../rules/request-pattern.js';
import { type RunningTail, startEventTail, type TailStart } from './event-tail.js';

export interface TailRoutesOptions {
  js: ServiceContext['js'];
  /** `<P>_EVENTS` */
  eventsStream: string;
  /** FUZE_STREAM_PREFIX (not `prefix`: fastify reads that as a route prefix). */
  streamPrefix: string;
  logger: Logger;
  /** A client is dropped once this much waits to be written to it (default 1 MiB). */
  maxBufferedBytes?: number;
}

interface TailQuery {
  bus?: string;
  pattern?: string;
  since?: string;
}

/**
 * `GET /v1/tail`: a bus's events as Server-Sent Events, from now, from `since`, or after the
 * `Last-Event-ID` a reconnecting client sends; filtered by an EventBridge pattern.
 */
export async function tailRoutes(app: FastifyInstance, options: TailRoutesOptions): Promise<void> {
  const open = new Set<RunningTail>();
  // Live streams never end on their own: end them so the server can close.
  app.addHook('preClose', async () => {
    await Promise.all([...open].map((tail) => tail.close()));
  });

  app.get<{ Querystring: TailQuery; Headers: { 'last-event-id'?: string } }>(
    '/v1/tail',
    {
      preHandler: requireScope('events:read'),
      schema: {
        tags: ['events'],
        summary: "Stream a bus's events as they arrive (Server-Sent Events)",
        description:
          "Each SSE message has `id:` = the event's sequence in the events stream and `data:` = the CloudEvent as one line of JSON. Send `Last-Event-ID` to resume after an id. A client that reads slower than events arrive is sent `event: dropped` and disconnected (1 MiB waiting).",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            bus: { type: 'string', description: 'default `default`' },
            pattern: {
              type: 'string',
              description: 'an EventBridge event pattern as JSON (URL-encoded); default: every event',
            },
            since: {
              type: 'string',
              description:
                'start at this RFC 3339 time, or this long ago (`5m`, `1h`); default: from now. `Last-Event-ID` wins over it',
            },
          },
        },
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', description: 'resume after this id' } },
        },
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          400: { $ref: 'problem#' },
        },
      },
    },
    async (request, reply) => {
      const bus = request.query.bus ?? defaultBus;
      if (!busNamePattern.test(bus))
        throw invalid('query.bus', `"${bus}" is not a bus name: use [a-z0-9-], at most 64 characters`);
      const pattern = request.query.pattern === undefined ? undefined : readPattern(request.query.pattern);
      const start = startOf(request.headers['last-event-id'], request.query.since);
      const tail = await startEventTail(reply.raw, {
        js: options.js,
        stream: options.eventsStream,
        filterSubject: busEventsFilter(options.streamPrefix, bus),
        start,
        ...(pattern ? { pattern } : {}),
        ...(options.maxBufferedBytes ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
        // From here the response is the stream's: fastify no longer answers it.
        onOpen: () => reply.hijack(),
        logger: options.logger,
      }).catch((err: unknown) => {
        throw new FuzeError(
          'FUZE_NATS_UNAVAILABLE',
          `cannot read the events stream: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      });
      open.add(tail);
      void tail.done.then(() => open.delete(tail));
    },
  );
}

function readPattern(text: string): CompiledPattern {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid('query.pattern', `is not JSON: ${(err as Error).message}`);
  }
  return compileRequestPattern(value, 'query.pattern');
}

function startOf(lastEventId: string | undefined, since: string | undefined): TailStart {
  if (lastEventId !== undefined) {
    const seq = Number(lastEventId);
    if (!Number.isSafeInteger(seq) || seq < 0)
      throw invalid(
        'headers.last-event-id',
        `"${lastEventId}" is not an id this stream sent (a sequence number)`,
      );
    return { kind: 'sequence', seq: seq + 1 };
  }
  if (since === undefined) return { kind: 'new' };
  const at = parseInstantOrAgo(since, Date.now());
  if (at === undefined)
    throw invalid('query.since', `"${since}" is neither an RFC 3339 time nor a duration such as 5m`);
  return { kind: 'time', at: new Date(at).toISOString() };
}

function invalid(pointer: string, message: string): FuzeError {
  return invalidRequest({ pointer, message });
}
