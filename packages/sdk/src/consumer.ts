import {
  connectNats,
  JetStreamPublisher,
  openFlowBucket,
  openLeaseBucket,
  openRoutingBucket,
  readTargetSettings,
} from '@fuze/bus';
import { type CloudEventRecord, deliveredCloudEvent, FuzeError, streamNames } from '@fuze/core';
import {
  type Delivery,
  defaultDeliveryTuning,
  jetStreamDeadLetterSink,
  TargetConsumer,
} from '@fuze/delivery';
import { withSpan } from '@fuze/telemetry';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ConsumerOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './consumer-options.js';
import { type ConsumerSettings, consumerSettings, followRuleSettings } from './rule-settings.js';
import { stderrLogger } from './stderr-logger.js';

export { NonRetryableError, RetryAfterError } from '@fuze/delivery';
export type { ConsumerOptions } from './consumer-options.js';

/** What a handler knows about the delivery besides the event. */
export interface DeliveryContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** The ordering key, when the delivery is ordered. */
  partitionKey: string | undefined;
  bus: string;
  rule: string;
  /** Aborted when this consumer gives the delivery up (shutdown, rebalance): stop early. */
  signal: AbortSignal;
  /**
   * Set when an operator replayed this event: `deadLetterId` names the dead letter for a
   * dead-letter replay, and is absent for an archive replay.
   */
  replay: { jobId: string; deadLetterId?: string } | undefined;
}

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
  private running:
    | {
        consumer: TargetConsumer;
        publisher: JetStreamPublisher;
        nc: NatsConnection;
        following: { stop(): void } | undefined;
      }
    | undefined;
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ResolvedConsumerOptions) {}

  async handle<T>(handler: EventHandler<T>): Promise<Consumer> {
    if (this.started)
      throw new FuzeError('FUZE_CONFIG_INVALID', 'handle() was already called on this consumer');
    this.started = true;
    const { options } = this;
    const logger = options.logger ?? stderrLogger('warn', { consumer: options.target });
    const nc =
      options.connection ?? (await connectNats({ url: options.natsUrl, name: options.name, logger }));
    // The rule's settings, as the routers publish them; none when no router ran here yet.
    const routing = await openRoutingBucket(nc, options.streamPrefix).catch(() => undefined);
    const published = routing ? await readTargetSettings(routing, options.target) : undefined;
    let settings: ConsumerSettings;
    try {
      settings = consumerSettings(options, published);
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
    if (!published)
      logger.info(
        { target: options.target },
        "no router has published this target's settings yet: using the consumer's options",
      );
    const live = { value: settings };
    const following = routing ? await followRuleSettings(routing, options, live, logger) : undefined;
    const publisher = new JetStreamPublisher(nc);
    const consumer = new TargetConsumer({
      nc,
      streamPrefix: options.streamPrefix,
      deliveryStream: streamNames(options.streamPrefix).delivery,
      target: options.target,
      partitions: settings.partitions,
      handler: (delivery) => runHandler(handler, delivery),
      retryPolicy: () => live.value.retry,
      deadLetters: jetStreamDeadLetterSink(publisher, options.streamPrefix),
      leaseBucket: await openLeaseBucket(
        nc,
        options.streamPrefix,
        options.tuning.leaseTtlMs ?? defaultDeliveryTuning.leaseTtlMs,
      ),
      ...(routing
        ? {
            flowControl: {
              bucket: await openFlowBucket(nc, options.streamPrefix),
              settings: () => live.value.flow,
            },
          }
        : {}),
      tuning: options.tuning,
      logger,
    });
    this.running = { consumer, publisher, nc, following };
    await consumer.start();
    return this;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const running = this.running;
      if (!running) return;
      running.following?.stop();
      await running.consumer.stop();
      await running.publisher.close();
      if (!this.options.connection) await running.nc.drain();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * One attempt: the handler runs with the delivery's `process fuze.deliver` span active (made by the
 * delivery engine while tracing is on), so the application's spans become its children (the
 * application's own context manager carries it across awaits).
 */
async function runHandler<T>(handler: EventHandler<T>, delivery: Delivery): Promise<void> {
  const { envelope } = delivery;
  const call = () =>
    handler(deliveredCloudEvent(envelope) as CloudEventRecord & { data?: T }, {
      attempt: delivery.attempts,
      partitionKey: envelope.partitionKey,
      bus: envelope.bus,
      rule: envelope.rule,
      signal: delivery.signal,
      replay: envelope.replay,
    });
  const { trace } = delivery;
  await (trace ? withSpan(trace.span, call, trace.parent) : call());
}
