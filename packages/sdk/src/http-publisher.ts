import { defaultBus, FuzeError } from '@fuze/core';
import { completeEvent, idOf } from './complete-event.js';
import { asFuzeError, concernsEveryEvent, PublishRejectedError } from './errors.js';
import { postToGateway } from './gateway-request.js';
import { errorFromProblem } from './http-problem.js';
import type { HttpTransportOptions } from './options.js';
import type { BatchEntryResult, BatchResult, Publisher, PublishInput, PublishResult } from './publisher.js';

const structuredType = 'application/cloudevents+json';
const batchType = 'application/cloudevents-batch+json';
/** Batch requests sent at once by one publishBatch call. */
const batchConcurrency = 4;

/**
 * The HTTP path: POSTs to the gateway's `/v1/events`, which validates the envelope and the
 * per-type data schema and answers 202 once JetStream stored the event.
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
      const answer = await this.post(structuredType, JSON.stringify(event));
      if (answer.status !== 202) throw errorFromProblem(answer.status, answer.body);
      const body = answer.body as { status?: string };
      return { id: event.id, status: body.status === 'duplicate' ? 'duplicate' : 'accepted' };
    });
  }

  publishBatch<T>(events: ReadonlyArray<PublishInput<T>>): Promise<BatchResult> {
    return this.track(async () => {
      const completed = events.map((input) => completeEvent(input));
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
      await Promise.all(Array.from({ length: Math.min(batchConcurrency, chunks.length) }, sendNext));
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
