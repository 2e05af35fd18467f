import { busNamePattern, defaultBus, FuzeError, isFuzeError, reservedBusProblem } from '@fuze/core';
import { requireScope } from '@fuze/http';
import { fuzeMetrics, tracingActive } from '@fuze/telemetry';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestOrigin } from './event-trace.js';
import { EventsRequestTrace } from './events-request-trace.js';
import type { EventIngestor } from './ingest.js';
import { batchType, type HttpEventBody, readHttpEvent, structuredType } from './read-http-event.js';

export interface EventsRoutesOptions {
  ingestor: EventIngestor;
  maxEventBytes: number;
  maxBatchEvents: number;
}

/**
 * `POST /v1/events` (default bus) and `POST /v1/buses/:bus/events`: CloudEvents in structured,
 * binary or batch mode. 202 once JetStream stored every accepted event.
 *
 * Tracing on: see `EventsRequestTrace`; both kinds of request continue the request's `traceparent`
 * header. Refusals are counted in `fuze_events_rejected_total` by error code.
 */
export async function eventsRoutes(app: FastifyInstance, options: EventsRoutesOptions): Promise<void> {
  // Every body arrives as bytes: the mode is decided from headers, and sizes are ours to judge.
  app.removeAllContentTypeParsers();
  const asBytes = (_request: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void) =>
    done(null, body);
  // The two JSON modes by name: fastify caches a named type's parser, while the catch-all is
  // looked up (its content type parsed again) on every request.
  app.addContentTypeParser([structuredType, batchType], { parseAs: 'buffer' }, asBytes);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, asBytes);

  // Room for a full batch; single events are held to FUZE_MAX_EVENT_BYTES per event below.
  const bodyLimit = Math.min(options.maxBatchEvents * options.maxEventBytes, 16 * 1024 * 1024);
  const preHandler = requireScope('events:publish');
  // Each handler knows its route: fastify's `request.routeOptions` builds a new object per read.
  for (const route of ['/v1/events', '/v1/buses/:bus/events']) {
    app.post<{ Params: { bus?: string } }>(route, { bodyLimit, preHandler, schema }, (request, reply) => {
      ingestRequest(request, reply, options, route);
    });
  }
}

/** Serialises the answers (fastify's schema serialiser); the request body is read as bytes, not by schema. */
const storedAnswer = {
  type: 'object',
  properties: {
    // One event: its id, and whether it was new or a duplicate of a stored source+id.
    id: { type: 'string' },
    status: { type: 'string', enum: ['accepted', 'duplicate'] },
    // A batch: how many entries were refused or failed, and one result per entry, in order.
    failedCount: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['status'],
        properties: {
          id: { type: 'string' },
          status: { type: 'string', enum: ['accepted', 'duplicate', 'rejected', 'failed'] },
          // problem+json, with whatever extension members the problem has.
          error: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const;
const schema = { response: { 202: storedAnswer, 207: storedAnswer } };

type EventsRequest = FastifyRequest<{ Params: { bus?: string } }>;

/**
 * One path, traced or not. The handler answers through `reply` alone and returns nothing (fastify
 * allows that for a handler that is not async), so a request costs no async frame and fastify no
 * `then` of its own: every outcome, a refusal included, goes out through `reply.send`.
 */
function ingestRequest(
  request: EventsRequest,
  reply: FastifyReply,
  options: EventsRoutesOptions,
  route: string,
): void {
  const trace = tracingActive() ? new EventsRequestTrace(request, route) : undefined;
  let stored: Promise<void>;
  try {
    const bus = busOf(request);
    const body = readHttpEvent(request.headers, request.body as Buffer | undefined, request.raw.rawHeaders);
    const origin = trace ? trace.origin(body, bus) : callerTrace(request);
    stored = ingestBody(bus, body, request, reply, options, origin);
  } catch (err) {
    trace?.refused(err);
    refuse(reply, err);
    return;
  }
  stored.then(trace && (() => trace.answered(reply.statusCode)), (err: unknown) => {
    trace?.refused(err);
    refuse(reply, err);
  });
}

/** Counts a refused request and answers it: problem+json through the app's error handler. */
function refuse(reply: FastifyReply, err: unknown): void {
  fuzeMetrics.eventsRejected.inc({ reason: isFuzeError(err) ? err.code : 'FUZE_INTERNAL' });
  reply.send(err instanceof Error ? err : new Error(String(err)));
}

function busOf(request: EventsRequest): string {
  const bus = request.params.bus ?? defaultBus;
  if (bus !== defaultBus && !busNamePattern.test(bus)) {
    throw new FuzeError('FUZE_NOT_FOUND', `"${bus}" is not a bus name: use [a-z0-9-], at most 64 characters`);
  }
  const reserved = reservedBusProblem(bus);
  if (reserved) throw new FuzeError('FUZE_RESERVED_BUS', reserved);
  return bus;
}

/**
 * Stores the request's events and sends the answer. Not async: a single event is one `then` on
 * its publish, not another async frame per request. Refusals before the publish throw.
 */
function ingestBody(
  bus: string,
  body: HttpEventBody,
  request: EventsRequest,
  reply: FastifyReply,
  options: EventsRoutesOptions,
  origin: IngestOrigin | undefined,
): Promise<void> {
  if (body.mode === 'batch') {
    if (body.events.length > options.maxBatchEvents) {
      throw new FuzeError(
        'FUZE_BATCH_TOO_LARGE',
        `the batch has ${body.events.length} events; send at most ${options.maxBatchEvents} per request (FUZE_MAX_BATCH_EVENTS)`,
      );
    }
    return Promise.all(body.events.map((event) => options.ingestor.ingestEntry(bus, event, origin))).then(
      (results) => {
        const failedCount = results.filter((r) => r.status === 'rejected' || r.status === 'failed').length;
        // 207 tells a client that looks only at the status that some entries need attention.
        reply.code(failedCount === 0 ? 202 : 207).send({ failedCount, results });
      },
    );
  }
  if (((request.body as Buffer | undefined)?.length ?? 0) > options.maxEventBytes) {
    throw new FuzeError(
      'FUZE_EVENT_TOO_LARGE',
      `the request body is over ${options.maxEventBytes} bytes (FUZE_MAX_EVENT_BYTES); batch mode allows that much per event`,
    );
  }
  const received = body.mode === 'structured' ? (request.body as Buffer) : undefined;
  return options.ingestor.ingest(bus, body.event, origin, received).then((result) => {
    reply.code(202).send({ id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' });
  });
}

/** Tracing off: the request's trace headers, which an event without a trace of its own adopts. */
function callerTrace(request: EventsRequest): IngestOrigin | undefined {
  const { traceparent, tracestate } = request.headers;
  return traceparent === undefined ? undefined : { traceparent, tracestate };
}
