import type { JetStreamPublisher, PublishCallOptions, PublishRequest } from '@fuze/bus';
import {
  assertValidCloudEvent,
  type CloudEventRecord,
  type EventRouting,
  encodeEventMessage,
  FuzeError,
  isFuzeError,
} from '@fuze/core';
import { type ProblemDetails, toProblem } from '@fuze/http';
import { fuzeMetrics } from '@fuze/telemetry';
import type { EventSchemaRegistry } from './event-schema-registry.js';
import { type IngestOrigin, startEventTrace } from './event-trace.js';

/** The Retry-After of a 503 FUZE_BUS_UNAVAILABLE: a NATS leader election or restart takes seconds. */
const busRetryAfterSeconds = 5;

/** The outcome for one event, like an EventBridge PutEvents result entry. */
export type EntryResult =
  | { id: string; status: 'accepted' | 'duplicate' }
  | { id?: string; status: 'rejected' | 'failed'; error: ProblemDetails };

/**
 * Validates one candidate event and stores it in the events stream.
 * Resolves only after JetStream acked the write; a FuzeError explains any refusal.
 *
 * Tracing: see `startEventTrace`.
 */
export class EventIngestor {
  private readonly publishOptions: PublishCallOptions;

  constructor(
    private readonly deps: {
      publisher: JetStreamPublisher;
      schemas: EventSchemaRegistry;
      streamPrefix: string;
      /** The deployment's routing: which routing shard each event goes to. */
      routing: EventRouting;
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
    const trace = startEventTrace(event, origin, bus);
    let request: PublishRequest;
    try {
      request = trace.message(
        this.publishRequest(bus, event, trace.stamp(event, changed ? undefined : received)),
      );
    } catch (err) {
      trace.end(err);
      throw err;
    }
    // One `then` for both outcomes: this is the one-event request path.
    return this.deps.publisher.publish(request, this.publishOptions).then(
      (ack) => {
        trace.end();
        return { id: event.id, duplicate: this.count(bus, ack.duplicate) };
      },
      (err: unknown) => {
        const refusal = this.busUnavailable(err);
        trace.end(refusal);
        return Promise.reject(refusal);
      },
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

  private publishRequest(bus: string, event: CloudEventRecord, received?: Uint8Array): PublishRequest {
    let request: PublishRequest;
    try {
      request = encodeEventMessage(
        this.deps.streamPrefix,
        bus,
        event,
        this.deps.routing,
        Date.now(),
        received,
      );
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
