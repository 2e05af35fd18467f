import {
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  trace,
} from '@opentelemetry/api';

/**
 * W3C trace context, as Fuze carries it: `traceparent`/`tracestate` NATS headers (hop by hop: the
 * context of the span that produced the message) and the CloudEvents distributed-tracing extension
 * attributes of the same names (the context where the event started; set once, never overwritten,
 * so it survives storage, the DLQ and replay).
 *
 * Fuze always speaks W3C on its own messages, whatever OTEL_PROPAGATORS says. The header format is
 * written here on @opentelemetry/api alone, not with @opentelemetry/core's W3CTraceContextPropagator:
 * the SDK ships this file, and @opentelemetry/core pins a narrow @opentelemetry/api peer range that
 * an application's own OpenTelemetry can conflict with (docs/adr/0005). trace-context-oracle.test.ts
 * holds it to that propagator's answers.
 */

/** Set by @opentelemetry/core's suppressTracing(): the SDK's exporters use it to trace nothing. */
const suppressTracingKey = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

// The W3C grammar: version ff is invalid, all-zero ids are invalid, version 00 has exactly 4 parts.
const traceparentPattern =
  /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/** A header map as nats.js `MsgHdrs` provides it (and `HeaderReader` of @fuze/core). */
export interface HeaderLookup {
  get(name: string): string;
  keys(): string[];
}

/** Plain headers: Node's IncomingHttpHeaders (lower-case names), a record of NATS headers, ... */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined>>;

function isLookup(headers: HeaderLookup | HeaderRecord): headers is HeaderLookup {
  return (
    typeof (headers as HeaderLookup).get === 'function' &&
    typeof (headers as HeaderLookup).keys === 'function'
  );
}

/** The first value of a header, from either kind of header map. */
function headerValue(headers: HeaderLookup | HeaderRecord, name: string): string | undefined {
  if (isLookup(headers)) return headers.get(name) || undefined;
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : value[0];
}

/** `tracestate` may arrive split over several headers: they join with commas. */
function traceStateValue(headers: HeaderLookup | HeaderRecord): string | undefined {
  if (isLookup(headers)) return headers.get('tracestate') || undefined;
  const value = headers.tracestate;
  return (typeof value === 'string' || value === undefined ? value : value.join(',')) || undefined;
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
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || ctx.getValue(suppressTracingKey) === true || !isSpanContextValid(spanContext)) return;
  headers.traceparent = formatTraceparent(spanContext);
  const state = spanContext.traceState?.serialize();
  if (state) headers.tracestate = state;
}

/**
 * The context of a message's or request's `traceparent`/`tracestate` headers, on top of `parent`
 * (default: the root context); `parent` itself when they are missing or invalid.
 */
export function extractTraceContext(
  headers: HeaderLookup | HeaderRecord,
  parent: Context = ROOT_CONTEXT,
): Context {
  const spanContext = parseTraceparentText(headerValue(headers, 'traceparent'));
  if (!spanContext) return parent;
  const state = traceStateValue(headers);
  if (state !== undefined) spanContext.traceState = createTraceState(state);
  return trace.setSpanContext(parent, spanContext);
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
    spanContext.traceState = createTraceState(attributes.tracestate);
  }
  return spanContext;
}

/** A valid `traceparent` value as a remote span context; undefined for anything else. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  return typeof value === 'string' ? parseTraceparentText(value.trim()) : undefined;
}

/** A header's `traceparent` exactly as the W3C grammar reads it (one optional space each side). */
function parseTraceparentText(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const match = traceparentPattern.exec(value);
  // Later versions may add parts; version 00 may not.
  if (!match || (match[1] === '00' && match[5])) return undefined;
  const spanContext: SpanContext = {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16),
    isRemote: true,
  };
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
