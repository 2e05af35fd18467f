import type { PublishRequest } from '@fuze/bus';
import type { CloudEventRecord } from '@fuze/core';
import {
  type Attributes,
  activeContext,
  attributes,
  type Context,
  destinations,
  type EventIdentity,
  endSpan,
  eventSpanParent,
  injectTraceContext,
  parseEventTraceContext,
  parseTraceparent,
  publishSpan,
  type Span,
  setEventTraceContext,
  tracingActive,
} from '@fuze/telemetry';
import { withTraceAttributes } from './stamp-trace.js';

/** Where an event's request came from, for tracing. */
export interface IngestOrigin {
  /** Tracing on: the request span's context, the parent of each event's publish span (default: the active context). */
  parent?: Context;
  /**
   * Tracing on, a single-event request: the request's own span, a `publish fuze.events` started
   * by the caller, who also ends it. The event's publish is recorded in it instead of a child span.
   */
  span?: Span;
  /**
   * Tracing off: the request's `traceparent`/`tracestate` headers. An event without a `traceparent`
   * of its own then carries the caller's, so the caller's trace still reaches the targets.
   */
  traceparent?: string | string[] | undefined;
  tracestate?: string | string[] | undefined;
}

/**
 * What storing one event does for its trace. The ingest path is one path: with tracing off this
 * is a constant that does nothing, or copies the caller's `traceparent` into the event.
 */
export interface EventTrace {
  /** Gives the event the trace attributes it lacks; returns the bytes to store (undefined: encode the event). */
  stamp(event: CloudEventRecord, encoded: Uint8Array | undefined): Uint8Array | undefined;
  /** The message as it is published, with this hop's trace headers. */
  message(request: PublishRequest): PublishRequest;
  /** The publish was stored, or failed with `err`. */
  end(err?: unknown): void;
}

/**
 * The trace of one event's publish.
 *
 * Tracing on (a tracer provider is registered): one `publish fuze.events` producer span per event,
 * child of the request span (or of the event's own `traceparent`), or the request's own span for a
 * single-event request (`IngestOrigin.span`); an event that arrives without a `traceparent` gets
 * this span's, so its trace survives storage, the DLQ and replay; the NATS `traceparent` header
 * always names this span, so the router's span is its child.
 *
 * Tracing off: an event without a `traceparent` adopts the request's header, if it has a valid one.
 */
export function startEventTrace(
  event: CloudEventRecord,
  origin: IngestOrigin | undefined,
  bus: string,
): EventTrace {
  if (tracingActive()) return new EventPublishTrace(event, origin, bus);
  if (origin?.traceparent === undefined || event.traceparent !== undefined) return noTrace;
  return new CallerTraceAdoption(origin);
}

const noTrace: EventTrace = {
  stamp: (_event, encoded) => encoded,
  message: (request) => request,
  end: () => {},
};

/** Tracing off: copies a valid `traceparent` header (and its `tracestate`) into the event. */
class CallerTraceAdoption implements EventTrace {
  constructor(private readonly origin: IngestOrigin) {}

  stamp(event: CloudEventRecord, encoded: Uint8Array | undefined): Uint8Array | undefined {
    const traceparent = single(this.origin.traceparent);
    if (!parseTraceparent(traceparent)) return encoded;
    const hadTracestate = event.tracestate !== undefined;
    event.traceparent = traceparent;
    const tracestate = single(this.origin.tracestate);
    if (tracestate) event.tracestate = tracestate;
    return stamped(encoded, event, hadTracestate);
  }

  message(request: PublishRequest): PublishRequest {
    return request;
  }

  end(): void {}
}

/** Tracing on: the event's `publish fuze.events` span, or the request's (which its caller ends). */
class EventPublishTrace implements EventTrace {
  private readonly span: Span;
  private readonly ownSpan: boolean;
  /** The event came with a trace, so none is stamped into it. */
  private readonly ownTrace: boolean;

  constructor(event: CloudEventRecord, origin: IngestOrigin | undefined, bus: string) {
    if (origin?.span) {
      this.span = origin.span;
      this.ownSpan = false;
      this.ownTrace = parseEventTraceContext(event) !== undefined;
    } else {
      ({ span: this.span, ownTrace: this.ownTrace } = startEventPublishSpan(
        event,
        origin?.parent ?? activeContext(),
        bus,
      ));
      this.ownSpan = true;
    }
  }

  stamp(event: CloudEventRecord, encoded: Uint8Array | undefined): Uint8Array | undefined {
    if (this.ownTrace) return encoded;
    const hadTrace = event.traceparent !== undefined || event.tracestate !== undefined;
    setEventTraceContext(event, this.span);
    return stamped(encoded, event, hadTrace);
  }

  message(request: PublishRequest): PublishRequest {
    this.span.setAttribute(attributes.ATTR_MESSAGING_DESTINATION_NAME, request.subject);
    if (request.subject.includes('.delayed.')) this.span.updateName(`publish ${destinations.delayed}`);
    // An event stamped above already names this span in its trace headers; otherwise the span's
    // context replaces the event's there.
    if (!this.ownTrace) return request;
    const headers = { ...request.headers };
    injectTraceContext(headers, this.span);
    return { ...request, headers };
  }

  end(err?: unknown): void {
    if (this.ownSpan) endSpan(this.span, err);
  }
}

/**
 * The `publish fuze.events` span of one event, child of `requestContext`, or of the event's own
 * `traceparent` (linked to the request's span when the two are in different traces): see
 * `eventSpanParent`. `ownTrace`: the event came with a trace, so none is stamped into it.
 */
export function startEventPublishSpan(
  event: EventIdentity,
  requestContext: Context,
  bus: string,
  spanAttributes?: Attributes,
): { span: Span; ownTrace: boolean } {
  const { parent, links, ownTrace } = eventSpanParent(event, requestContext);
  const span = publishSpan(destinations.events, undefined, event, {
    parent,
    ...(links ? { links } : {}),
    bus,
    ...(spanAttributes ? { attributes: spanAttributes } : {}),
  });
  return { span, ownTrace };
}

/** The received bytes with the event's new trace attributes, when they can be added in place. */
function stamped(
  received: Uint8Array | undefined,
  event: CloudEventRecord,
  hadTraceAttributes: boolean,
): Uint8Array | undefined {
  if (received === undefined || hadTraceAttributes || typeof event.traceparent !== 'string') return undefined;
  return withTraceAttributes(received, {
    traceparent: event.traceparent,
    tracestate: typeof event.tracestate === 'string' ? event.tracestate : undefined,
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
