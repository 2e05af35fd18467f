import {
  type Attributes,
  type Context,
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
} from '@opentelemetry/api';
import { fuzeTracer } from './tracer.js';

// Attribute objects below are written with literal keys (the names listed in ./attributes.ts):
// V8 builds such literals in tens of nanoseconds, while computed keys (`[ATTR_X]: v`), especially
// after a spread, make a dictionary object that costs microseconds per span (measured).

/**
 * Fuze's logical destinations: the low-cardinality half of every messaging span name (the NATS
 * subject goes to `messaging.destination.name`). Spans for other destinations (a NATS target's
 * subject) take any low-cardinality string.
 */
export const destinations = {
  /** `<p>.events.<bus>.<shard>.<type>`: the events stream. */
  events: 'fuze.events',
  /** `<p>.deliver.<target>.<partition>`: the delivery stream. */
  deliver: 'fuze.deliver',
  /** `<p>.dlq.<target>`: the dead-letter stream. */
  dlq: 'fuze.dlq',
  /** `<p>.delayed.<bus>.<type>`: events held for `deliverat`/`delay`. */
  delayed: 'fuze.delayed',
} as const;
export type Destination = (typeof destinations)[keyof typeof destinations];

/** What a span needs to know of a CloudEvent: the event itself, or a delivery's attribute map. */
export interface EventIdentity {
  readonly [attribute: string]: unknown;
  readonly id?: unknown;
  readonly source?: unknown;
  readonly type?: unknown;
  readonly subject?: unknown;
}

export interface SpanStart {
  /** Parent context; default the active one. */
  parent?: Context;
  /** Start a new trace (replays, timer firings): pair it with `links: linkFrom(...)`. */
  root?: boolean;
  links?: Link[];
  /** `fuze.bus` */
  bus?: string;
  /** `fuze.rule` */
  rule?: string;
  /** `fuze.target` */
  target?: string;
  /** More attributes, set at start so samplers see them. */
  attributes?: Attributes;
}

/**
 * `publish <destination>` (PRODUCER, `messaging.operation.type: send`): one message written to a
 * stream. Stamp its context into the message (`injectTraceContext` on the headers, and on the event
 * with `setEventTraceContext` when the event has no trace yet) so the consumer continues the trace.
 */
export function publishSpan(
  destination: Destination | string,
  subject: string | undefined,
  event: EventIdentity,
  start: SpanStart = {},
): Span {
  return messagingSpan('publish', 'send', SpanKind.PRODUCER, destination, subject, event, start);
}

/**
 * `process <destination>` (CONSUMER, `messaging.operation.type: process`): handling one message
 * (the router matching an event, a dispatcher delivering, an SDK consumer's handler). Its parent is
 * the producer's context: `extractMessageContext(msg.headers, event)`.
 */
export function processSpan(
  destination: Destination | string,
  subject: string | undefined,
  event: EventIdentity,
  start: SpanStart & { consumer?: string } = {},
): Span {
  return messagingSpan('process', 'process', SpanKind.CONSUMER, destination, subject, event, start);
}

/** `receive <destination>` (CONSUMER, `messaging.operation.type: receive`): a pull that hands out messages. */
export function receiveSpan(
  destination: Destination | string,
  subject: string | undefined,
  event: EventIdentity,
  start: SpanStart & { consumer?: string } = {},
): Span {
  return messagingSpan('receive', 'receive', SpanKind.CONSUMER, destination, subject, event, start);
}

/**
 * `publish fuze.dlq` (PRODUCER): a delivery given up on and written to the dead-letter stream, as
 * a child of the delivery's process span. `stage` is the record's `failure.stage`.
 */
export function deadLetterSpan(
  subject: string | undefined,
  event: EventIdentity,
  dead: { target: string; rule?: string; stage: 'plan' | 'route' | 'deliver'; errorClass?: string },
  start: SpanStart = {},
): Span {
  const attributes: Attributes = { 'fuze.dead_letter.stage': dead.stage };
  if (dead.errorClass !== undefined) attributes['error.type'] = dead.errorClass;
  if (start.attributes) Object.assign(attributes, start.attributes);
  return publishSpan(destinations.dlq, subject, event, {
    ...start,
    target: dead.target,
    ...(dead.rule === undefined ? {} : { rule: dead.rule }),
    attributes,
  });
}

/**
 * One delivery attempt to an HTTP target: an HTTP CLIENT span named after the method, with the
 * HTTP client semantic conventions. Inject its context into the request's headers
 * (`injectTraceContext(headers, span)`) so the target receives `traceparent`. End it with
 * `endHttpSpan(span, status, error)`.
 */
export function deliverySpan(
  request: { method: string; url: string | URL; target: string; rule?: string; attempt?: number },
  start: SpanStart = {},
): Span {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
  const method = request.method.toUpperCase();
  const attributes: Attributes = {
    'http.request.method': method,
    'url.full': redactUrl(url),
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    'fuze.target': request.target,
  };
  if (request.rule !== undefined) attributes['fuze.rule'] = request.rule;
  if (request.attempt !== undefined && request.attempt > 1) {
    attributes['http.request.resend_count'] = request.attempt - 1;
  }
  if (start.attributes) Object.assign(attributes, start.attributes);
  return fuzeTracer().startSpan(
    method,
    { kind: SpanKind.CLIENT, attributes, ...linksAndRoot(start) },
    start.parent ?? context.active(),
  );
}

/**
 * The gateway's span for one ingest request: an HTTP SERVER span `<METHOD> <route>`, child of the
 * request's own `traceparent` header when it has one (`extractTraceContext(request.headers)`).
 */
export function requestSpan(request: ServerRequest, start: SpanStart = {}): Span {
  const attributes = serverRequestAttributes(request);
  if (start.attributes) Object.assign(attributes, start.attributes);
  return fuzeTracer().startSpan(
    `${attributes['http.request.method']} ${request.route}`,
    { kind: SpanKind.SERVER, attributes, ...linksAndRoot(start) },
    start.parent ?? context.active(),
  );
}

/** An HTTP request as a server span describes it. */
export interface ServerRequest {
  method: string;
  route: string;
  path: string;
  scheme?: string;
}

/**
 * The HTTP server conventions' request attributes (`http.request.method`, `http.route`, `url.path`,
 * `url.scheme`): a request span's, or those of another span that stands for a whole request (the
 * gateway's publish span of a single-event request).
 */
export function serverRequestAttributes(request: ServerRequest): Attributes {
  return {
    'http.request.method': request.method.toUpperCase(),
    'http.route': request.route,
    'url.path': request.path,
    'url.scheme': request.scheme ?? 'http',
  };
}

/**
 * Ends a span. With an error: status ERROR, `error.type` (a FuzeError's code, else the error's
 * name) and the exception recorded as an event.
 */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) recordError(span, error);
  span.end();
}

/**
 * Ends an HTTP span with its response status. A client span is an error from 400 on; a server
 * span (the gateway's request) only from 500: a 4xx there is the caller's mistake, so it gets
 * `error.type` but no error status.
 */
export function endHttpSpan(
  span: Span,
  status: number | undefined,
  error?: unknown,
  side: 'client' | 'server' = 'client',
): void {
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  const failed = status !== undefined && status >= (side === 'server' ? 500 : 400);
  if (error !== undefined && (failed || status === undefined)) recordError(span, error);
  else if (error !== undefined) span.setAttribute('error.type', errorType(error));
  else if (failed) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function recordError(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.setAttribute('error.type', errorType(err));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

/** A FuzeError's code (FUZE_PUBLISH_TIMEOUT, ...), else the error's class name. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name || 'Error' : 'Error';
}

function messagingSpan(
  operationName: 'publish' | 'process' | 'receive',
  operationType: 'send' | 'process' | 'receive',
  kind: SpanKind,
  destination: Destination | string,
  subject: string | undefined,
  event: EventIdentity,
  start: SpanStart & { consumer?: string },
): Span {
  const attributes: Attributes = {
    'messaging.system': 'nats',
    'messaging.system.name': 'nats',
    'messaging.operation.name': operationName,
    'messaging.operation.type': operationType,
  };
  if (subject !== undefined) attributes['messaging.destination.name'] = subject;
  if (start.consumer !== undefined) attributes['messaging.consumer.group.name'] = start.consumer;
  const { id, type, source, subject: eventSubject } = event;
  if (typeof id === 'string') {
    attributes['messaging.message.id'] = id;
    attributes['cloudevents.event_id'] = id;
  }
  if (typeof type === 'string') attributes['cloudevents.event_type'] = type;
  if (typeof source === 'string') attributes['cloudevents.event_source'] = source;
  if (typeof eventSubject === 'string') attributes['cloudevents.event_subject'] = eventSubject;
  if (start.bus !== undefined) attributes['fuze.bus'] = start.bus;
  if (start.rule !== undefined) attributes['fuze.rule'] = start.rule;
  if (start.target !== undefined) attributes['fuze.target'] = start.target;
  if (start.attributes) Object.assign(attributes, start.attributes);
  return fuzeTracer().startSpan(
    `${operationName} ${destination}`,
    { kind, attributes, ...linksAndRoot(start) },
    start.parent ?? context.active(),
  );
}

function linksAndRoot(start: SpanStart): { links?: Link[]; root?: boolean } {
  if (start.links === undefined && start.root === undefined) return noOptions;
  return {
    ...(start.links && start.links.length > 0 ? { links: start.links } : {}),
    ...(start.root ? { root: true } : {}),
  };
}

const noOptions: { links?: Link[]; root?: boolean } = {};

/** A target URL without credentials or query (tokens often ride there). */
function redactUrl(url: URL): string {
  if (!url.username && !url.password && !url.search) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  return copy.href;
}
