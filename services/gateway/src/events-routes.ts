import { busNamePattern, defaultBus, FuzeError, isFuzeError } from '@fuze/core';
import { requireScope, sendProblem } from '@fuze/http';
import {
  type Context,
  contextWithSpan,
  endHttpSpan,
  extractTraceContext,
  fuzeMetrics,
  requestSpan,
  type Span,
  tracingActive,
  withEventContext,
} from '@fuze/telemetry';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventIngestor, IngestOrigin } from './ingest.js';
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
 * With tracing on, each request is an HTTP server span, child of the request's `traceparent`
 * header or, for a single event without one, of the event's `traceparent` attribute; refusals are
 * counted in `fuze_events_rejected_total` by error code.
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
  const handler = (request: FastifyRequest<{ Params: { bus?: string } }>, reply: FastifyReply) =>
    ingestRequest(request, reply, options);
  app.post<{ Params: { bus?: string } }>('/v1/events', { bodyLimit, preHandler }, handler);
  app.post<{ Params: { bus?: string } }>('/v1/buses/:bus/events', { bodyLimit, preHandler }, handler);
}

type EventsRequest = FastifyRequest<{ Params: { bus?: string } }>;

async function ingestRequest(
  request: EventsRequest,
  reply: FastifyReply,
  options: EventsRoutesOptions,
): Promise<FastifyReply> {
  const traced = tracingActive();
  let span: Span | undefined;
  try {
    const bus = request.params.bus ?? defaultBus;
    if (!busNamePattern.test(bus)) {
      throw new FuzeError(
        'FUZE_NOT_FOUND',
        `"${bus}" is not a bus name: use [a-z0-9-], at most 64 characters`,
      );
    }
    const body = readHttpEvent(request.headers, request.body as Buffer | undefined);
    if (!traced) {
      const incoming = request.headers.traceparent === undefined ? undefined : incomingTrace(request);
      return await ingestBody(bus, body, request, reply, options, incoming);
    }
    const parent = requestParent(request, body);
    span = startRequestSpan(request, parent);
    // The request span is passed down explicitly (not made active): no AsyncLocalStorage scope per request.
    const sent = await ingestBody(bus, body, request, reply, options, {
      parent: contextWithSpan(span, parent),
    });
    endHttpSpan(span, reply.statusCode, undefined, 'server');
    return sent;
  } catch (err) {
    fuzeMetrics.eventsRejected.inc({ reason: isFuzeError(err) ? err.code : 'FUZE_INTERNAL' });
    if (traced) {
      span ??= startRequestSpan(request, requestParent(request, undefined));
      endHttpSpan(span, isFuzeError(err) ? err.statusCode : 500, err, 'server');
    }
    if (isFuzeError(err) && err.code === 'FUZE_NOT_FOUND') return sendProblem(reply, err);
    throw err;
  }
}

async function ingestBody(
  bus: string,
  body: HttpEventBody,
  request: EventsRequest,
  reply: FastifyReply,
  options: EventsRoutesOptions,
  origin: IngestOrigin | undefined,
): Promise<FastifyReply> {
  if (body.mode === 'batch') {
    if (body.events.length > options.maxBatchEvents) {
      throw new FuzeError(
        'FUZE_BATCH_TOO_LARGE',
        `the batch has ${body.events.length} events; send at most ${options.maxBatchEvents} per request (FUZE_MAX_BATCH_EVENTS)`,
      );
    }
    const results = await Promise.all(
      body.events.map((event) => options.ingestor.ingestEntry(bus, event, origin)),
    );
    const failedCount = results.filter((r) => r.status === 'rejected' || r.status === 'failed').length;
    // 207 tells a client that looks only at the status that some entries need attention.
    return reply.code(failedCount === 0 ? 202 : 207).send({ failedCount, results });
  }
  if (((request.body as Buffer | undefined)?.length ?? 0) > options.maxEventBytes) {
    throw new FuzeError(
      'FUZE_EVENT_TOO_LARGE',
      `the request body is over ${options.maxEventBytes} bytes (FUZE_MAX_EVENT_BYTES); batch mode allows that much per event`,
    );
  }
  const received = body.mode === 'structured' ? (request.body as Buffer) : undefined;
  const result = await options.ingestor.ingest(bus, body.event, origin, received);
  // Serialised here: the one hot response of the service, two fields.
  const answer = `{"id":${JSON.stringify(result.id)},"status":"${result.duplicate ? 'duplicate' : 'accepted'}"}`;
  return reply.code(202).type('application/json; charset=utf-8').send(answer);
}

/** The parent of the request span: the `traceparent` header, else a single event's `traceparent` attribute. */
function requestParent(request: EventsRequest, body: HttpEventBody | undefined): Context {
  const parent = extractTraceContext(request.headers);
  if (request.headers.traceparent !== undefined || body === undefined || body.mode === 'batch') return parent;
  const event = body.event;
  return typeof event === 'object' && event !== null
    ? withEventContext(event as Record<string, unknown>, parent)
    : parent;
}

function startRequestSpan(request: EventsRequest, parent: Context): Span {
  const path = request.url;
  const query = path.indexOf('?');
  return requestSpan(
    {
      method: request.method,
      route: request.routeOptions.url ?? path,
      path: query < 0 ? path : path.slice(0, query),
      scheme: request.protocol,
    },
    { parent },
  );
}

function incomingTrace(request: EventsRequest): IngestOrigin {
  return { traceparent: request.headers.traceparent, tracestate: request.headers.tracestate };
}
