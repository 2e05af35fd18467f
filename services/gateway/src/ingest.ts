import { eventPublishRequest, type JetStreamPublisher, type PublishRequest } from '@fuze/bus';
import { assertValidCloudEvent, type CloudEventRecord, FuzeError, isFuzeError } from '@fuze/core';
import { type ProblemDetails, toProblem } from '@fuze/http';
import {
  activeContext,
  attributes,
  type Context,
  destinations,
  endSpan,
  eventSpanParent,
  fuzeMetrics,
  injectTraceContext,
  parseTraceparent,
  publishSpan,
  setEventTraceContext,
  tracingActive,
} from '@fuze/telemetry';
import { CloudEvent, ValidationError } from 'cloudevents';
import type { EventSchemaRegistry } from './event-schema-registry.js';

/** The outcome for one event, like an EventBridge PutEvents result entry. */
export type EntryResult =
  | { id: string; status: 'accepted' | 'duplicate' }
  | { id?: string; status: 'rejected' | 'failed'; error: ProblemDetails };

/** Where an event's request came from, for tracing. */
export interface IngestOrigin {
  /** Tracing on: the request span's context, the parent of each event's publish span (default: the active context). */
  parent?: Context;
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
 * event, child of the request span (or of the event's own `traceparent`); an event that arrives
 * without a `traceparent` gets this span's, so its trace survives storage, the DLQ and replay; the
 * NATS `traceparent` header always names this span, so the router's span is its child.
 */
export class EventIngestor {
  constructor(
    private readonly deps: {
      publisher: JetStreamPublisher;
      schemas: EventSchemaRegistry;
      streamPrefix: string;
      maxEventBytes: number;
    },
  ) {}

  /** Throws a FuzeError for bad input or a failed publish. */
  async ingest(
    bus: string,
    candidate: unknown,
    origin?: IngestOrigin,
  ): Promise<{ id: string; duplicate: boolean }> {
    const event = this.validate(candidate);
    if (tracingActive()) return this.publishTraced(bus, event, origin?.parent ?? activeContext());
    if (origin?.traceparent !== undefined && event.traceparent === undefined) adoptTrace(event, origin);
    const ack = await this.deps.publisher.publish(this.publishRequest(bus, event));
    return { id: event.id, duplicate: this.count(bus, ack.duplicate) };
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
    requestContext: Context,
  ): Promise<{ id: string; duplicate: boolean }> {
    const { parent, links, ownTrace } = eventSpanParent(event, requestContext);
    const span = publishSpan(destinations.events, undefined, event, {
      parent,
      ...(links ? { links } : {}),
      bus,
    });
    try {
      if (!ownTrace) setEventTraceContext(event, span);
      const request = this.publishRequest(bus, event);
      span.setAttribute(attributes.ATTR_MESSAGING_DESTINATION_NAME, request.subject);
      if (request.subject.includes('.delayed.')) span.updateName(`publish ${destinations.delayed}`);
      const headers = { ...request.headers };
      injectTraceContext(headers, span);
      const ack = await this.deps.publisher.publish({ ...request, headers });
      endSpan(span);
      return { id: event.id, duplicate: this.count(bus, ack.duplicate) };
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  private publishRequest(bus: string, event: CloudEventRecord): PublishRequest {
    const request = eventPublishRequest(this.deps.streamPrefix, bus, event);
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

  private validate(candidate: unknown): CloudEventRecord {
    // ajv first: its errors name the attribute; then the CloudEvents SDK, the reference model.
    assertValidCloudEvent(candidate);
    const event = stripNulls(candidate);
    try {
      new CloudEvent(event as ConstructorParameters<typeof CloudEvent>[0], true);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw new FuzeError('FUZE_INVALID_EVENT', `not a valid CloudEvent: ${err.message}`, {
        details: { problems: [{ pointer: '', message: err.message }] },
      });
    }
    if (event.data !== undefined) this.deps.schemas.assertValidData(event.type, event.data);
    return event;
  }
}

/** Copies a valid `traceparent` header (and its `tracestate`) into an event that has none. */
function adoptTrace(event: CloudEventRecord, incoming: IngestOrigin): void {
  const traceparent = single(incoming.traceparent);
  if (!parseTraceparent(traceparent)) return;
  event.traceparent = traceparent;
  const tracestate = single(incoming.tracestate);
  if (tracestate) event.tracestate = tracestate;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function idOf(candidate: unknown): string | undefined {
  const id = (candidate as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

// The JSON format treats a null attribute as absent.
function stripNulls(event: CloudEventRecord): CloudEventRecord {
  for (const key of Object.keys(event)) if (event[key] === null && key !== 'data') delete event[key];
  return event;
}
