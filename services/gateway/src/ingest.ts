import { eventPublishRequest, type JetStreamPublisher } from '@fuze/bus';
import { assertValidCloudEvent, type CloudEventRecord, FuzeError, isFuzeError } from '@fuze/core';
import { type ProblemDetails, toProblem } from '@fuze/http';
import { CloudEvent, ValidationError } from 'cloudevents';
import type { EventSchemaRegistry } from './event-schema-registry.js';

/** The outcome for one event, like an EventBridge PutEvents result entry. */
export type EntryResult =
  | { id: string; status: 'accepted' | 'duplicate' }
  | { id?: string; status: 'rejected' | 'failed'; error: ProblemDetails };

/**
 * Validates one candidate event and stores it in the events stream.
 * Resolves only after JetStream acked the write; a FuzeError explains any refusal.
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
  async ingest(bus: string, candidate: unknown): Promise<{ id: string; duplicate: boolean }> {
    const event = this.validate(candidate);
    const request = eventPublishRequest(this.deps.streamPrefix, bus, event);
    if (request.payload.length > this.deps.maxEventBytes) {
      throw new FuzeError(
        'FUZE_EVENT_TOO_LARGE',
        `the event is ${request.payload.length} bytes; the limit is ${this.deps.maxEventBytes} (FUZE_MAX_EVENT_BYTES). Store large payloads elsewhere and send a reference.`,
      );
    }
    const ack = await this.deps.publisher.publish(request);
    return { id: event.id, duplicate: ack.duplicate };
  }

  /** One batch entry: never throws; each entry succeeds or fails on its own. */
  async ingestEntry(bus: string, candidate: unknown): Promise<EntryResult> {
    const id = idOf(candidate);
    try {
      const result = await this.ingest(bus, candidate);
      return { id: result.id, status: result.duplicate ? 'duplicate' : 'accepted' };
    } catch (err) {
      if (!isFuzeError(err)) throw err;
      const status = err.statusCode >= 500 ? 'failed' : 'rejected';
      return { ...(id === undefined ? {} : { id }), status, error: toProblem(err) };
    }
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

function idOf(candidate: unknown): string | undefined {
  const id = (candidate as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}

// The JSON format treats a null attribute as absent.
function stripNulls(event: CloudEventRecord): CloudEventRecord {
  for (const key of Object.keys(event)) if (event[key] === null && key !== 'data') delete event[key];
  return event;
}
