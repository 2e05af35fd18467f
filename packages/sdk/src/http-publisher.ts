import { type CloudEventRecord, defaultBus, FuzeError } from '@fuze/core';
import { type Span, tracingActive } from '@fuze/telemetry';
import { completeEvent, idOf } from './complete-event.js';
import { asFuzeError, concernsEveryEvent, PublishRejectedError } from './errors.js';
import { postToGateway } from './gateway-request.js';
import { errorFromProblem } from './http-problem.js';
import type { HttpTransportOptions } from './options.js';
import type { BatchEntryResult, BatchResult, Publisher, PublishInput, PublishResult } from './publisher.js';
import { endPublishSpan, startPublishSpan } from './publisher-tracing.js';

const structuredType = 'application/cloudevents+json';
const batchType = 'application/cloudevents-batch+json';
/** Batch requests sent at once by one publishBatch call. */
const batchConcurrency = 4;

/**
 * The HTTP path: POSTs to the gateway's `/v1/events`, which validates the envelope and the
 * per-type data schema and answers 202 once JetStream stored the event.
 * When the application registered an OpenTelemetry tracer provider, each event gets a
 * `publish fuze.events` producer span, stamped into the event's `traceparent` (unless it has one),
 * which the gateway continues.
 */
export class HttpPublisher implements Publisher {
  readonly transport = 'http';
  private readonly url: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: HttpTransportOptions) {
    const base = options.gatewayUrl.endsWith('/') ? options.gatewayUrl : `${options.gatewayUrl}/`;
    const path = options.bus === defaultBus ? 'v1/events' : `v1/buses/${options.bus}/events`;
    this.url = new URL(path, base).toString();
  }

  publish<T>(input: PublishInput<T>): Promise<PublishResult> {
    return this.track(async () => {
      const event = completeEvent(input);
      const span = this.startSpan(event);
      try {
        const answer = await this.post(structuredType, JSON.stringify(event));
        if (answer.status !== 202) throw errorFromProblem(answer.status, answer.body);
        const body = answer.body as { status?: string };
        if (span) endPublishSpan(span);
        return { id: event.id, status: body.status === 'duplicate' ? 'duplicate' : 'accepted' };
      } catch (err) {
        if (span) endPublishSpan(span, err);
        throw err;
      }
    });
  }

  publishBatch<T>(events: ReadonlyArray<PublishInput<T>>): Promise<BatchResult> {
    return this.track(async () => {
      const completed = events.map((input) => completeEvent(input));
      const spans = tracingActive() ? completed.map((event) => this.startSpan(event)) : undefined;
      const chunks: Array<{ start: number; events: unknown[] }> = [];
      for (let start = 0; start < completed.length; start += this.options.maxBatchEvents) {
        chunks.push({ start, events: completed.slice(start, start + this.options.maxBatchEvents) });
      }
      const results: BatchEntryResult[] = new Array(completed.length);
      const sendNext = async (): Promise<void> => {
        for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
          const chunkResults = await this.sendBatch(chunk.events);
          chunkResults.forEach((result, i) => {
            results[chunk.start + i] = result;
          });
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(batchConcurrency, chunks.length) }, sendNext));
      } catch (err) {
        for (const span of spans ?? []) if (span) endPublishSpan(span, err);
        throw err;
      }
      spans?.forEach((span, i) => {
        const result = results[i];
        if (span) endPublishSpan(span, result && 'error' in result ? result.error : undefined);
      });
      const failedCount = results.filter((r) => r.status === 'rejected' || r.status === 'failed').length;
      return { failedCount, results };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The event's producer span when tracing is on (stamping its `traceparent`); else undefined. */
  private startSpan(event: CloudEventRecord): Span | undefined {
    // completeEvent returns anything that is not an object as is: the gateway will refuse it.
    if (!tracingActive() || typeof event !== 'object' || event === null || Array.isArray(event))
      return undefined;
    return startPublishSpan(event, this.options.bus);
  }

  /** One request of at most maxBatchEvents events; results in the events' order. */
  private async sendBatch(events: unknown[]): Promise<BatchEntryResult[]> {
    let answer: Awaited<ReturnType<typeof postToGateway>>;
    try {
      answer = await this.post(batchType, JSON.stringify(events));
    } catch (err) {
      const error = asFuzeError(err);
      return events.map((event) => ({ id: idOf(event), status: 'failed', error }));
    }
    if (answer.status !== 202 && answer.status !== 207) {
      const error = errorFromProblem(answer.status, answer.body);
      if (concernsEveryEvent(error) || error.code === 'FUZE_NOT_FOUND') throw error;
      return events.map((event) =>
        error instanceof PublishRejectedError
          ? { id: idOf(event), status: 'rejected', error }
          : { id: idOf(event), status: 'failed', error },
      );
    }
    const entries = (answer.body as { results?: unknown[] } | undefined)?.results ?? [];
    return events.map((event, i) => entryResult(idOf(event), entries[i]));
  }

  private post(contentType: string, body: string) {
    if (this.closed) throw new FuzeError('FUZE_PUBLISH_FAILED', 'the publisher is closed');
    return postToGateway({
      url: this.url,
      contentType,
      token: this.options.token,
      body,
      giveUpAfterMs: this.options.giveUpAfterMs,
    });
  }

  private track<R>(work: () => Promise<R>): Promise<R> {
    const promise = work();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

function entryResult(id: string | undefined, raw: unknown): BatchEntryResult {
  const entry = (raw ?? {}) as { status?: string; error?: { status?: number } };
  if (entry.status === 'accepted' || entry.status === 'duplicate')
    return { id: id ?? '', status: entry.status };
  if (entry.status === 'rejected' || entry.status === 'failed') {
    const error = errorFromProblem(
      entry.error?.status ?? (entry.status === 'rejected' ? 400 : 503),
      entry.error,
    );
    return error instanceof PublishRejectedError
      ? { id, status: 'rejected', error }
      : { id, status: 'failed', error };
  }
  return {
    id,
    status: 'failed',
    error: new FuzeError(
      'FUZE_PUBLISH_FAILED',
      'the gateway returned no result for this entry; it may not be stored',
    ),
  };
}
