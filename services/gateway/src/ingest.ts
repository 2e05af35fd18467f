import type { JetStreamPublisher, PublishCallOptions, PublishRequest } from '@fuze/bus';
import {
  assertValidCloudEvent,
  type CloudEventRecord,
  encodeEventMessage,
  FuzeError,
  isFuzeError,
} from '@fuze/core';
import { type ProblemDetails, toProblem } from '@fuze/http';
import {
  type Attributes,
  activeContext,
  attributes,
  type Context,
  destinations,
  type EventIdentity,
  endSpan,
  eventSpanParent,
  fuzeMetrics,
  injectTraceContext,
  parseEventTraceContext,
  parseTraceparent,
  publishSpan,
  type Span,
  setEventTraceContext,
  tracingActive,
} from '@fuze/telemetry';
import type { EventSchemaRegistry } from './event-schema-registry.js';
import { withTraceAttributes } from './stamp-trace.js';

/** The Retry-After of a 503 FUZE_BUS_UNAVAILABLE: a NATS leader election or restart takes seconds. */
const busRetryAfterSeconds = 5;

/** The outcome for one event, like an EventBridge PutEvents result entry. */
export type EntryResult =
  | { id: string; status: 'accepted' | 'duplicate' }
  | { id?: string; status: 'rejected' | 'failed'; error: ProblemDetails };

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
 * Validates one candidate event and stores it in the events stream.
 * Resolves only after JetStream acked the write; a FuzeError explains any refusal.
 *
 * Tracing (when a tracer provider is registered): one `publish fuze.events` producer span per
 * event, child of the request span (or of the event's own `traceparent`), or the request's own span
 * for a single-event request (`IngestOrigin.span`); an event that arrives
 * without a `traceparent` gets this span's, so its trace survives storage, the DLQ and replay; the
 * NATS `traceparent` header always names this span, so the router's span is its child.
 */
export class EventIngestor {
  private readonly publishOptions: PublishCallOptions;

  constructor(
    private readonly deps: {
      publisher: JetStreamPublisher;
      schemas: EventSchemaRegistry;
      streamPrefix: string;
      maxEventBytes: number;
      /** How long a publish may wait for JetStream before the request answers 503 (FUZE_GATEWAY_PUBLISH_TIMEOUT). */
      publishTimeoutMs: number;
    },
  ) {
    this.publishOptions = { giveUpAfterMs: deps.publishTimeoutMs };
  }

  /**
   * Throws a FuzeError at once for bad input; rejects with one for a failed publish. `received` is
   * the candidate's JSON as it arrived (structured mode); it is stored as is unless validation or
   * tracing changed the event. Not async: the one-event request path is a single `then` here.
   */
  ingest(
    bus: string,
    candidate: unknown,
    origin?: IngestOrigin,
    received?: Uint8Array,
  ): Promise<{ id: string; duplicate: boolean }> {
    const { event, changed } = this.validate(candidate);
    let encoded = changed ? undefined : received;
    if (tracingActive()) return this.publishTraced(bus, event, origin, encoded);
    if (origin?.traceparent !== undefined && event.traceparent === undefined) {
      const hadTracestate = event.tracestate !== undefined;
      if (adoptTrace(event, origin)) encoded = stamped(encoded, event, hadTracestate);
    }
    // One `then` for both outcomes: this is the one-event request path.
    return this.deps.publisher.publish(this.publishRequest(bus, event, encoded), this.publishOptions).then(
      (ack) => ({ id: event.id, duplicate: this.count(bus, ack.duplicate) }),
      (err: unknown) => Promise.reject(this.busUnavailable(err)),
    );
  }

  /**
   * A publish past the gateway's deadline (FUZE_GATEWAY_PUBLISH_TIMEOUT): a client waiting on a
   * bus that cannot store (NATS down, no quorum) gets a 503 with Retry-After in seconds, not a 504
   * after the publisher's 30 s. The event may still be stored if JetStream answers later: a retry
   * with the same source+id is then answered `duplicate`. Other errors pass as they are.
   */
  private busUnavailable(err: unknown): unknown {
    if (!isFuzeError(err) || err.code !== 'FUZE_PUBLISH_TIMEOUT') return err;
    return new FuzeError(
      'FUZE_BUS_UNAVAILABLE',
      `JetStream did not store the event within ${this.deps.publishTimeoutMs} ms (FUZE_GATEWAY_PUBLISH_TIMEOUT): NATS is down or has no quorum; retry after a few seconds with the same source and id`,
      { cause: err, details: { retryAfterSeconds: busRetryAfterSeconds } },
    );
  }

  /** One batch entry: never throws; each entry succeeds or fails on its own. */
  async ingestEntry(bus: string, candidate: unknown, origin?: IngestOrigin): Promise<EntryResult> {
    const id = idOf(candidate);
    try {
      const result = await this.ingest(bus, candidate, origin);
      return { id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' };
    } catch (err) {
      if (!isFuzeError(err)) throw err;
      fuzeMetrics.eventsRejected.inc({ reason: err.code });
      const status = err.statusCode >= 500 ? 'failed' : 'rejected';
      return { ...(id === undefined ? {} : { id }), status, error: toProblem(err) };
    }
  }

  private async publishTraced(
    bus: string,
    event: CloudEventRecord,
    origin: IngestOrigin | undefined,
    received: Uint8Array | undefined,
  ): Promise<{ id: string; duplicate: boolean }> {
    const given = origin?.span;
    let span: Span;
    let ownTrace: boolean;
    if (given) {
      span = given;
      ownTrace = parseEventTraceContext(event) !== undefined;
    } else {
      ({ span, ownTrace } = startEventPublishSpan(event, origin?.parent ?? activeContext(), bus));
    }
    try {
      let encoded = received;
      if (!ownTrace) {
        const hadTrace = event.traceparent !== undefined || event.tracestate !== undefined;
        setEventTraceContext(event, span);
        encoded = stamped(received, event, hadTrace);
      }
      let request = this.publishRequest(bus, event, encoded);
      span.setAttribute(attributes.ATTR_MESSAGING_DESTINATION_NAME, request.subject);
      if (request.subject.includes('.delayed.')) span.updateName(`publish ${destinations.delayed}`);
      // The message's headers carry the event's trace attributes; for an event stamped above those
      // already name this span, otherwise the span's context replaces them.
      if (ownTrace) {
        const headers = { ...request.headers };
        injectTraceContext(headers, span);
        request = { ...request, headers };
      }
      const ack = await this.deps.publisher
        .publish(request, this.publishOptions)
        .catch((err: unknown) => Promise.reject(this.busUnavailable(err)));
      if (!given) endSpan(span);
      return { id: event.id, duplicate: this.count(bus, ack.duplicate) };
    } catch (err) {
      if (!given) endSpan(span, err);
      throw err;
    }
  }

  private publishRequest(bus: string, event: CloudEventRecord, received?: Uint8Array): PublishRequest {
    let request: PublishRequest;
    try {
      request = encodeEventMessage(this.deps.streamPrefix, bus, event, Date.now(), received);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      // JSON.stringify ran out of stack: data nested thousands of levels deep.
      throw new FuzeError(
        'FUZE_INVALID_EVENT',
        `the event is nested too deeply to be stored (${err.message}): flatten its data`,
      );
    }
    if (request.payload.length > this.deps.maxEventBytes) {
      throw new FuzeError(
        'FUZE_EVENT_TOO_LARGE',
        `the event is ${request.payload.length} bytes; the limit is ${this.deps.maxEventBytes} (FUZE_MAX_EVENT_BYTES). Store large payloads elsewhere and send a reference.`,
      );
    }
    return request;
  }

  /** Counts a stored event; returns `duplicate`. */
  private count(bus: string, duplicate: boolean): boolean {
    (duplicate ? fuzeMetrics.eventsDuplicate : fuzeMetrics.eventsAccepted).inc({ bus });
    return duplicate;
  }

  /** `changed`: null attributes were dropped, so the event no longer matches its received JSON. */
  private validate(candidate: unknown): { event: CloudEventRecord; changed: boolean } {
    // One pass of schemas/cloudevent.schema.json, whose errors name the attribute. It refuses every
    // event the CloudEvents SDK refuses (packages/core's conformance suite holds it to that), so
    // running the SDK's check too only repeated it, at more than the cost of the schema itself.
    assertValidCloudEvent(candidate);
    const changed = stripNulls(candidate);
    if (candidate.data !== undefined) this.deps.schemas.assertValidData(candidate.type, candidate.data);
    return { event: candidate, changed };
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
  attributes?: Attributes,
): { span: Span; ownTrace: boolean } {
  const { parent, links, ownTrace } = eventSpanParent(event, requestContext);
  const span = publishSpan(destinations.events, undefined, event, {
    parent,
    ...(links ? { links } : {}),
    bus,
    ...(attributes ? { attributes } : {}),
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

/** Copies a valid `traceparent` header (and its `tracestate`) into an event that has none. */
function adoptTrace(event: CloudEventRecord, incoming: IngestOrigin): boolean {
  const traceparent = single(incoming.traceparent);
  if (!parseTraceparent(traceparent)) return false;
  event.traceparent = traceparent;
  const tracestate = single(incoming.tracestate);
  if (tracestate) event.tracestate = tracestate;
  return true;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function idOf(candidate: unknown): string | undefined {
  const id = (candidate as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

// The JSON format treats a null attribute as absent. Returns whether any was dropped.
function stripNulls(event: CloudEventRecord): boolean {
  let dropped = false;
  for (const key in event) {
    if (event[key] === null && key !== 'data') {
      delete event[key];
      dropped = true;
    }
  }
  return dropped;
}
