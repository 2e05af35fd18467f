import { connectNats, JetStreamPublisher, type PublishRequest, RoutingTable } from '@fuze/bus';
import {
  assertValidCloudEvent,
  type CloudEventRecord,
  encodeEventMessage,
  FuzeError,
  isFuzeError,
} from '@fuze/core';
import { attributes, injectTraceContext, type Span, tracingActive } from '@fuze/telemetry';
import type { NatsConnection } from '@nats-io/transport-node';
import { completeEvent, idOf } from './complete-event.js';
import { asFuzeError, PublishRejectedError } from './errors.js';
import type { NatsTransportOptions } from './options.js';
import type { BatchEntryResult, BatchResult, Publisher, PublishInput, PublishResult } from './publisher.js';
import { endPublishSpan, startPublishSpan } from './publisher-tracing.js';
import { stderrLogger } from './stderr-logger.js';

interface Connected {
  nc: NatsConnection;
  publisher: JetStreamPublisher;
  /** The deployment's routing settings, as the gateway reads them. */
  routing: RoutingTable;
}

/** One event ready to go: its stream message, and its producer span when tracing is on. */
interface Prepared {
  id: string;
  request: PublishRequest;
  span: Span | undefined;
}

/**
 * The direct path: validates the envelope here, then publishes to the events stream with
 * @fuze/bus's JetStreamPublisher (acks matched by hand, retries with the same Nats-Msg-Id).
 * Connects on first use. Data schemas are the gateway's: they are not checked on this path.
 * When the application registered an OpenTelemetry tracer provider, each event gets a
 * `publish fuze.events` producer span whose context travels in the message's `traceparent`.
 */
export class NatsPublisher implements Publisher {
  readonly transport = 'nats';
  private connected: Connected | undefined;
  private connecting: Promise<Connected> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: NatsTransportOptions) {}

  async publish<T>(input: PublishInput<T>): Promise<PublishResult> {
    const event = this.checked(input);
    // Started before any await, so that it is a child of the caller's active span.
    const span = tracingActive() ? startPublishSpan(event, this.options.bus) : undefined;
    try {
      const { publisher, routing } = this.connected ?? (await this.connect());
      const { request } = this.prepare(event, routing, span);
      const ack = await publisher.publish(request);
      if (span) endPublishSpan(span);
      return { id: event.id, status: ack.duplicate ? 'duplicate' : 'accepted' };
    } catch (err) {
      if (span) endPublishSpan(span, err);
      throw err;
    }
  }

  async publishBatch<T>(events: ReadonlyArray<PublishInput<T>>): Promise<BatchResult> {
    const traced = tracingActive();
    const checked = events.map((input) =>
      attempt(input, () => {
        const event = this.checked(input);
        return { event, span: traced ? startPublishSpan(event, this.options.bus) : undefined };
      }),
    );
    let connected: Connected | FuzeError;
    try {
      connected = this.connected ?? (await this.connect());
    } catch (err) {
      connected = asFuzeError(err);
    }
    const ready = connected;
    // Every valid entry goes out at once: JetStreamPublisher pipelines them up to maxInFlight.
    const results = await Promise.all(
      checked.map(async (event, i): Promise<BatchEntryResult> => {
        if (!event.ok) return { id: event.id, status: 'rejected', error: event.error };
        const { id } = event.value.event;
        const { span } = event.value;
        // The subject needs the routing settings: without a connection there is nothing to encode.
        if (ready instanceof FuzeError) {
          if (span) endPublishSpan(span, ready);
          return { id, status: 'failed', error: ready };
        }
        const entry = attempt(events[i]!, () => this.prepare(event.value.event, ready.routing, span));
        if (!entry.ok) {
          if (span) endPublishSpan(span, entry.error);
          return { id: entry.id, status: 'rejected', error: entry.error };
        }
        const { request } = entry.value;
        try {
          const ack = await ready.publisher.publish(request);
          if (span) endPublishSpan(span);
          return { id, status: ack.duplicate ? 'duplicate' : 'accepted' };
        } catch (err) {
          if (span) endPublishSpan(span, err);
          return { id, status: 'failed', error: asFuzeError(err) };
        }
      }),
    );
    const failedCount = results.filter((r) => r.status === 'rejected' || r.status === 'failed').length;
    return { failedCount, results };
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.connected = undefined; // publishes from now on are refused
      this.closing = this.shutDown();
    }
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The completed event; throws PublishRejectedError when its envelope is bad. */
  private checked(input: PublishInput): CloudEventRecord {
    const event = completeEvent(input);
    try {
      assertValidCloudEvent(event);
    } catch (err) {
      throw isFuzeError(err) ? PublishRejectedError.from(err) : err;
    }
    return event;
  }

  /**
   * The stream message for one checked event, its producer span (when tracing) stamped into the
   * message headers; throws PublishRejectedError when the event cannot be encoded (the caller
   * ends the span).
   */
  private prepare(event: CloudEventRecord, routing: RoutingTable, span: Span | undefined): Prepared {
    const request = this.publishRequest(event, routing);
    if (!span) return { id: event.id, request, span };
    span.setAttribute(attributes.ATTR_MESSAGING_DESTINATION_NAME, request.subject);
    const headers = { ...request.headers };
    injectTraceContext(headers, span);
    return { id: event.id, request: { ...request, headers }, span };
  }

  private publishRequest(event: CloudEventRecord, routing: RoutingTable): PublishRequest {
    let request: PublishRequest;
    try {
      request = encodeEventMessage(this.options.streamPrefix, this.options.bus, event, routing);
    } catch (err) {
      // A bad delivery extension (deliverat, delay) is a FuzeError naming it.
      if (isFuzeError(err)) throw PublishRejectedError.from(err);
      // JSON.stringify: a BigInt or a cycle in data.
      throw new PublishRejectedError(
        'FUZE_INVALID_EVENT',
        `the event cannot be serialized as JSON: ${(err as Error).message}`,
        {
          problems: [{ pointer: 'data', message: 'is not JSON-serializable' }],
          cause: err,
        },
      );
    }
    if (request.payload.length > this.options.maxEventBytes) {
      throw new PublishRejectedError(
        'FUZE_EVENT_TOO_LARGE',
        `the event is ${request.payload.length} bytes; the limit is ${this.options.maxEventBytes} (maxEventBytes). Store large payloads elsewhere and send a reference.`,
        {
          problems: [
            { pointer: 'data', message: `makes the event larger than ${this.options.maxEventBytes} bytes` },
          ],
        },
      );
    }
    return request;
  }

  private connect(): Promise<Connected> {
    if (this.closing) return Promise.reject(new FuzeError('FUZE_PUBLISH_FAILED', 'the publisher is closed'));
    this.connecting ??= this.open().then(
      (connected) => {
        this.connected = connected;
        return connected;
      },
      (err) => {
        this.connecting = undefined; // the next publish tries again
        throw err;
      },
    );
    return this.connecting;
  }

  private async open(): Promise<Connected> {
    const { options } = this;
    const nc =
      options.connection ??
      (await connectNats({
        url: options.natsUrl,
        name: options.name,
        logger: options.logger ?? stderrLogger('warn', { component: 'fuze-sdk' }),
      }));
    let routing: RoutingTable;
    try {
      routing = await RoutingTable.open(nc, options.streamPrefix);
    } catch (err) {
      if (nc !== options.connection && !nc.isClosed()) await nc.close();
      throw err;
    }
    const publisher = new JetStreamPublisher(nc, {
      ackTimeoutMs: options.ackTimeoutMs,
      giveUpAfterMs: options.giveUpAfterMs,
      maxInFlight: options.maxInFlight,
    });
    return { nc, publisher, routing };
  }

  private async shutDown(): Promise<void> {
    const connected = await this.connecting?.catch(() => undefined);
    this.connected = undefined;
    if (!connected) return;
    await connected.publisher.close();
    connected.routing.close();
    if (connected.nc !== this.options.connection && !connected.nc.isClosed()) await connected.nc.close();
  }
}

type Attempt<R> = { ok: true; value: R } | { ok: false; id: string | undefined; error: PublishRejectedError };

/** `make()`'s value, or the PublishRejectedError it threw as a batch entry's rejection. */
function attempt<R>(input: PublishInput, make: () => R): Attempt<R> {
  try {
    return { ok: true, value: make() };
  } catch (err) {
    if (err instanceof PublishRejectedError) return { ok: false, id: idOf(input), error: err };
    throw err;
  }
}
