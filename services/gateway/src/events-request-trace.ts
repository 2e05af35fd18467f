import { isFuzeError } from '@fuze/core';
import {
  contextWithSpan,
  type EventIdentity,
  endHttpSpan,
  extractTraceContext,
  requestSpan,
  type ServerRequest,
  type Span,
  serverRequestAttributes,
} from '@fuze/telemetry';
import type { FastifyRequest } from 'fastify';
import { type IngestOrigin, startEventPublishSpan } from './event-trace.js';
import type { HttpEventBody } from './read-http-event.js';

/**
 * The span of one events request, made only while tracing is on. A single-event request is one
 * span: the event's `publish fuze.events` (PRODUCER), with the request's HTTP attributes, child of
 * the `traceparent` header, or of the event's own `traceparent` (linked to the header's context
 * when the two differ), as `eventSpanParent` decides for any event; a span around one publish
 * would double the gateway's spans for the same interval. A batch is an HTTP server span with a
 * publish span per event, and so is a request refused before its body was read.
 */
export class EventsRequestTrace {
  private span: Span | undefined;

  constructor(
    private readonly request: FastifyRequest,
    private readonly route: string,
  ) {}

  /** Starts the request's span; returns what its events' publishes descend from. */
  origin(body: HttpEventBody, bus: string): IngestOrigin {
    if (body.mode === 'batch') {
      const parent = extractTraceContext(this.request.headers);
      this.span = requestSpan(this.serverRequest(), { parent });
      // Passed down explicitly (not made active): no AsyncLocalStorage scope per request.
      return { parent: contextWithSpan(this.span, parent) };
    }
    const event = typeof body.event === 'object' && body.event !== null ? (body.event as EventIdentity) : {};
    this.span = startEventPublishSpan(
      event,
      extractTraceContext(this.request.headers),
      bus,
      serverRequestAttributes(this.serverRequest()),
    ).span;
    return { span: this.span };
  }

  /** The answer was sent. */
  answered(statusCode: number): void {
    if (this.span) endHttpSpan(this.span, statusCode, undefined, 'server');
  }

  /** The request was refused, before or after its span started. */
  refused(err: unknown): void {
    this.span ??= requestSpan(this.serverRequest(), { parent: extractTraceContext(this.request.headers) });
    endHttpSpan(this.span, isFuzeError(err) ? err.statusCode : 500, err, 'server');
  }

  private serverRequest(): ServerRequest {
    const path = this.request.url;
    const query = path.indexOf('?');
    return {
      method: this.request.method,
      route: this.route,
      path: query < 0 ? path : path.slice(0, query),
      scheme: this.request.protocol,
    };
  }
}
