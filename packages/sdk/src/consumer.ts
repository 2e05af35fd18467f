import { type CloudEventRecord, FuzeError } from '@fuze/core';
import {
  type ConsumerOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './consumer-options.js';
import { type DeliveryContext, deliveredEvent, deliveryContext, inDeliverySpan } from './delivery-context.js';
import { TargetWorker } from './target-worker.js';

export { NonRetryableError, RetryAfterError } from '@fuze/delivery';
export type { ConsumerOptions } from './consumer-options.js';
export type { DeliveryContext } from './delivery-context.js';

/**
 * Handles one event. Resolve = done (acked). Throw = failed: retried with backoff per the retry
 * policy while the event's key waits, then dead-lettered; `NonRetryableError` dead-letters at
 * once; `RetryAfterError(ms)` sets the delay before the next attempt.
 */
export type EventHandler<T = unknown> = (
  event: CloudEventRecord & { data?: T },
  context: DeliveryContext,
) => void | Promise<void>;

export interface Consumer {
  /**
   * Starts consuming the target's deliveries with `handler` and resolves once this consumer has
   * joined the target's workers (connected, leases running). Call once per consumer.
   */
  handle<T = unknown>(handler: EventHandler<T>): Promise<Consumer>;
  /** Stops taking deliveries, lets running handlers finish (up to 5 s), gives the partitions back. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Consumes a `consumer` target in this process, with the dispatcher's guarantees: one worker per
 * partition among every process consuming the target; per key, strict order across failures,
 * crashes and rebalances; no key, fully parallel; retries, then the dead-letter stream.
 *
 * ```ts
 * const consumer = await createConsumer({ target: 'fulfilment', natsUrl }).handle(async (event) => {
 *   await ship(event.data);
 * });
 * // ...
 * await consumer.close();
 * ```
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  return new TargetConsumerClient(resolveConsumerOptions(options));
}

class TargetConsumerClient implements Consumer {
  private worker: Promise<TargetWorker> | undefined;

  constructor(private readonly options: ResolvedConsumerOptions) {}

  async handle<T>(handler: EventHandler<T>): Promise<Consumer> {
    if (this.worker)
      throw new FuzeError('FUZE_CONFIG_INVALID', 'handle() was already called on this consumer');
    this.worker = TargetWorker.join(this.options, async () => ({
      handler: (delivery) =>
        inDeliverySpan(delivery, () => handler(deliveredEvent<T>(delivery), deliveryContext(delivery))),
    }));
    await this.worker;
    return this;
  }

  async close(): Promise<void> {
    const worker = await this.worker?.catch(() => undefined);
    await worker?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
