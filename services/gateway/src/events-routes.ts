import { busNamePattern, defaultBus, FuzeError, isFuzeError } from '@fuze/core';
import { requireScope } from '@fuze/http';
import {
  contextWithSpan,
  type EventIdentity,
  endHttpSpan,
  extractTraceContext,
  fuzeMetrics,
  requestSpan,
  type ServerRequest,
  type Span,
  serverRequestAttributes,
  tracingActive,
} from '@fuze/telemetry';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type EventIngestor, type IngestOrigin, startEventPublishSpan } from './ingest.js';
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
 * With tracing on, a single-event request is the event's `publish fuze.events` span (with the
 * request's HTTP attributes); a batch is an HTTP server span with a publish span per event. Both
 * continue the request's `traceparent` header. Refusals are counted in
 * `fuze_events_rejected_total` by error code.
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
    app.post<{ Params: { bus?: string } }>(route, { bodyLimit, preHandler }, (request, reply) => {
      if (tracingActive()) return ingestTracedRequest(request, reply, options, route);
      ingestRequest(request, reply, options);
      return undefined;
    });
  }
}

type EventsRequest = FastifyRequest<{ Params: { bus?: string } }>;

/**
 * Tracing off, the common case. The handler answers through `reply` alone and returns nothing
 * (fastify allows that for a handler that is not async), so a request costs no async frame and
 * fastify no `then` of its own: every outcome, a refusal included, goes out through `reply.send`.
 */
function ingestRequest(request: EventsRequest, reply: FastifyReply, options: EventsRoutesOptions): void {
  let stored: Promise<void>;
  try {
    const bus = busOf(request);
    const body = readHttpEvent(request.headers, request.body as Buffer | undefined, request.raw.rawHeaders);
    const incoming = request.headers.traceparent === undefined ? undefined : incomingTrace(request);
    stored = ingestBody(bus, body, request, reply, options, incoming);
  } catch (err) {
    refuse(reply, err);
    return;
  }
  stored.then(undefined, (err: unknown) => refuse(reply, err));
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
  return bus;
}

/**
 * Tracing on: resolves once the answer, a refusal included, is sent. Resolving with nothing (not
 * `reply`) is safe because this app has no onSend hooks: `reply.send` has ended the response
 * before the promise settles.
 */
async function ingestTracedRequest(
  request: EventsRequest,
  reply: FastifyReply,
  options: EventsRoutesOptions,
  route: string,
): Promise<void> {
  let span: Span | undefined;
  try {
    const bus = busOf(request);
    const body = readHttpEvent(request.headers, request.body as Buffer | undefined, request.raw.rawHeaders);
    let origin: IngestOrigin;
    if (body.mode === 'batch') {
      const parent = extractTraceContext(request.headers);
      span = requestSpan(serverRequest(request, route), { parent });
      // Passed down explicitly (not made active): no AsyncLocalStorage scope per request.
      origin = { parent: contextWithSpan(span, parent) };
    } else {
      span = singleEventSpan(request, route, bus, body.event);
      origin = { span };
    }
    await ingestBody(bus, body, request, reply, options, origin);
    endHttpSpan(span, reply.statusCode, undefined, 'server');
  } catch (err) {
    // A request refused before its body was read (a bad bus, malformed JSON) is a server span.
    span ??= requestSpan(serverRequest(request, route), { parent: extractTraceContext(request.headers) });
    endHttpSpan(span, isFuzeError(err) ? err.statusCode : 500, err, 'server');
    refuse(reply, err);
  }
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
    // Serialised here: the one hot response of the service, two fields.
    const answer = `{"id":${JSON.stringify(result.id)},"status":"${result.duplicate ? 'duplicate' : 'accepted'}"}`;
    reply.code(202).type('application/json; charset=utf-8').send(answer);
  });
}

/**
 * A single-event request is one span: the event's `publish fuze.events` (PRODUCER), with the
 * request's HTTP attributes, child of the `traceparent` header, or of the event's own `traceparent`
 * (linked to the header's context when the two differ), as `eventSpanParent` decides for any event.
 * A request span around one publish would double the gateway's spans for the same interval.
 */
function singleEventSpan(request: EventsRequest, route: string, bus: string, candidate: unknown): Span {
  const event = typeof candidate === 'object' && candidate !== null ? (candidate as EventIdentity) : {};
  return startEventPublishSpan(
    event,
    extractTraceContext(request.headers),
    bus,
    serverRequestAttributes(serverRequest(request, route)),
  ).span;
}

function serverRequest(request: EventsRequest, route: string): ServerRequest {
  const path = request.url;
  const query = path.indexOf('?');
  return {
    method: request.method,
    route,
    path: query < 0 ? path : path.slice(0, query),
    scheme: request.protocol,
  };
}

function incomingTrace(request: EventsRequest): IngestOrigin {
  return { traceparent: request.headers.traceparent, tracestate: request.headers.tracestate };
}
