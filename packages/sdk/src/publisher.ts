import type { CloudEventInput, FuzeError } from '@fuze/core';
import type { PublishRejectedError } from './errors.js';

/** A CloudEvent to publish: `id`, `time` and `specversion` are filled in when missing. */
export type PublishInput<T = unknown> = CloudEventInput & { data?: T };

/** JetStream stored the event (`accepted`), or had it already: same source+id (`duplicate`). */
export interface PublishResult {
  id: string;
  status: 'accepted' | 'duplicate';
}

/**
 * One entry of a batch, like the gateway's batch response: `rejected` means the event is bad
 * (a {@link PublishRejectedError}: fix it, do not retry as is); `failed` means it may not be
 * stored (JetStream or the gateway did not acknowledge it in time: publishing it again is safe).
 */
export type BatchEntryResult =
  | PublishResult
  | { id?: string; status: 'rejected'; error: PublishRejectedError }
  | { id?: string; status: 'failed'; error: FuzeError };

export interface BatchResult {
  /** Entries that are `rejected` or `failed`. */
  failedCount: number;
  /** One result per event, in the order the events were given. */
  results: BatchEntryResult[];
}

/**
 * Publishes CloudEvents to a Fuze bus, directly to JetStream or through the gateway.
 *
 * Every method resolves only once the event is durably stored (a JetStream ack, or the
 * gateway's 202, which it sends after the ack). Retries (after a lost ack, a NATS reconnect,
 * a gateway restart) reuse the event's source+id, so the bus stores it once; a retry whose
 * first attempt was stored after all resolves `duplicate`. Methods may be called concurrently.
 */
export interface Publisher {
  readonly transport: 'nats' | 'http';
  /**
   * Resolves with the event's id once it is stored. Rejects with a {@link PublishRejectedError}
   * when the event is invalid, or a FuzeError (`FUZE_PUBLISH_TIMEOUT`, `FUZE_PUBLISH_FAILED`,
   * `FUZE_NATS_UNAVAILABLE`, `FUZE_UNAUTHORIZED`, ...) when it could not be stored.
   */
  publish<T = unknown>(event: PublishInput<T>): Promise<PublishResult>;
  /**
   * Publishes every event, each succeeding or failing on its own. Only an error that concerns
   * every entry alike (a closed publisher, a bad or missing token) rejects the whole call.
   */
  publishBatch<T = unknown>(events: ReadonlyArray<PublishInput<T>>): Promise<BatchResult>;
  /** Waits for publishes in flight to settle, then releases the connection. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
