import {
  type Context,
  context,
  defaultTextMapSetter,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { parseTraceParent, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context, as Fuze carries it: `traceparent`/`tracestate` NATS headers (hop by hop: the
 * context of the span that produced the message) and the CloudEvents distributed-tracing extension
 * attributes of the same names (the context where the event started; set once, never overwritten,
 * so it survives storage, the DLQ and replay).
 *
 * Fuze always speaks W3C on its own messages, whatever OTEL_PROPAGATORS says.
 */
const w3c = new W3CTraceContextPropagator();

/** A header map as nats.js `MsgHdrs` provides it (and `HeaderReader` of @fuze/core). */
export interface HeaderLookup {
  get(name: string): string;
  keys(): string[];
}

/** Plain headers: Node's IncomingHttpHeaders (lower-case names), a record of NATS headers, ... */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

const lookupGetter: TextMapGetter<HeaderLookup> = {
  get: (carrier, key) => carrier.get(key) || undefined,
  keys: (carrier) => carrier.keys(),
};

const recordGetter: TextMapGetter<HeaderRecord> = {
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' || value === undefined ? value : [...value];
  },
  keys: (carrier) => Object.keys(carrier),
};

function isLookup(headers: HeaderLookup | HeaderRecord): headers is HeaderLookup {
  return (
    typeof (headers as HeaderLookup).get === 'function' &&
    typeof (headers as HeaderLookup).keys === 'function'
  );
}

/**
 * Writes `traceparent` (and `tracestate`) for `from` (a span, or a context holding one; default the
 * active context) into `headers`. Writes nothing when there is no valid span context.
 */
export function injectTraceContext(
  headers: Record<string, string>,
  from: Context | Span = context.active(),
): void {
  const ctx = isSpan(from) ? trace.setSpan(ROOT_CONTEXT, from) : from;
  w3c.inject(ctx, headers, defaultTextMapSetter);
}

/**
 * The context of a message's or request's `traceparent`/`tracestate` headers, on top of `parent`
 * (default: the root context); `parent` itself when they are missing or invalid.
 */
export function extractTraceContext(
  headers: HeaderLookup | HeaderRecord,
  parent: Context = ROOT_CONTEXT,
): Context {
  return isLookup(headers)
    ? w3c.extract(parent, headers, lookupGetter)
    : w3c.extract(parent, headers, recordGetter);
}

/** The W3C trace context attributes of a CloudEvent (or a delivery's attribute map). */
export interface EventTraceAttributes {
  readonly [attribute: string]: unknown;
  readonly traceparent?: unknown;
  readonly tracestate?: unknown;
}

/**
 * The context an event's `traceparent`/`tracestate` attributes describe (a remote parent), on top of
 * `parent`; `parent` itself when the event has no valid `traceparent`.
 */
export function withEventContext(attributes: EventTraceAttributes, parent: Context = ROOT_CONTEXT): Context {
  const spanContext = parseEventTraceContext(attributes);
  return spanContext ? trace.setSpanContext(parent, spanContext) : parent;
}

/** The remote span context of an event's `traceparent` (and `tracestate`), if it is valid. */
export function parseEventTraceContext(attributes: EventTraceAttributes): SpanContext | undefined {
  const spanContext = parseTraceparent(attributes.traceparent);
  if (spanContext && typeof attributes.tracestate === 'string' && attributes.tracestate !== '') {
    spanContext.traceState = new TraceState(attributes.tracestate);
  }
  return spanContext;
}

/** A valid `traceparent` value as a remote span context; undefined for anything else. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseTraceParent(value.trim());
  if (!parsed) return undefined;
  const spanContext: SpanContext = { ...parsed, isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** `00-<trace id>-<span id>-<flags>` for a span context. */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * Stamps `span`'s context into an event's `traceparent` (and `tracestate`) extension attributes, so
 * the event carries its trace through storage, the dead-letter queue and replay. The caller decides
 * whether an existing value may be replaced (Fuze stamps only events that arrive without one).
 */
export function setEventTraceContext(event: Record<string, unknown>, span: Span | SpanContext): void {
  const spanContext = isSpan(span) ? span.spanContext() : span;
  if (!isSpanContextValid(spanContext)) return;
  event.traceparent = formatTraceparent(spanContext);
  const state = spanContext.traceState?.serialize();
  if (state) event.tracestate = state;
  else delete event.tracestate;
}

/**
 * A span link to the trace a `traceparent` names: a replay links to the delivery that was
 * dead-lettered, a timer firing to the trace that set the timer. Empty when `traceparent` is not valid.
 */
export function linkFrom(traceparent: unknown, attributes?: Link['attributes']): Link[] {
  const spanContext = parseTraceparent(traceparent);
  if (!spanContext) return [];
  return [attributes ? { context: spanContext, attributes } : { context: spanContext }];
}

function isSpan(value: object): value is Span {
  return typeof (value as Span).spanContext === 'function';
}

/**
 * Where the first span Fuze makes for an event (its `publish`) belongs. An event that brings its own
 * `traceparent` continues that trace; if the active span (the gateway's request) is in another
 * trace, the publish span is parented on the event's context and linked to the request. Otherwise
 * the active context is the parent. `ownTrace` tells whether the event had a trace already (only
 * events without one get the publish span's context stamped in, with `setEventTraceContext`).
 */
export function eventSpanParent(
  event: EventTraceAttributes,
  active: Context = context.active(),
): { parent: Context; links?: Link[]; ownTrace: boolean } {
  const own = parseEventTraceContext(event);
  if (!own) return { parent: active, ownTrace: false };
  const current = trace.getSpanContext(active);
  if (current && current.traceId === own.traceId) return { parent: active, ownTrace: true };
  const parent = trace.setSpanContext(active, own);
  return current && isSpanContextValid(current)
    ? { parent, links: [{ context: current }], ownTrace: true }
    : { parent, ownTrace: true };
}

/**
 * The parent of a consumer's span for one message: the message's `traceparent` header (the producer
 * span of the previous hop), else the `traceparent` attribute of the event it carries (messages
 * written by something that does not trace), else `parent`.
 */
export function extractMessageContext(
  headers: HeaderLookup | undefined,
  event: EventTraceAttributes,
  parent: Context = ROOT_CONTEXT,
): Context {
  if (headers) {
    const extracted = extractTraceContext(headers, parent);
    if (extracted !== parent) return extracted;
  }
  return withEventContext(event, parent);
}
