import {
  connectNats,
  JetStreamPublisher,
  openFlowBucket,
  openLeaseBuckets,
  openRoutingBucket,
  readTargetSettings,
} from '@fuze/bus';
import { type Logger, streamNames } from '@fuze/core';
import {
  type DeliveryHandler,
  defaultDeliveryTuning,
  jetStreamDeadLetterSink,
  type PartitionLifecycle,
  TargetConsumer,
} from '@fuze/delivery';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import { type ConsumerSettings, consumerSettings, followRuleSettings } from './rule-settings.js';
import { stderrLogger } from './stderr-logger.js';

/** What a consumer or a processor runs each delivery through, and what it does as partitions move. */
export interface WorkerParts {
  handler: DeliveryHandler;
  lifecycle?: PartitionLifecycle;
}

/**
 * One process's membership of a target's workers, shared by createConsumer and createProcessor:
 * connects, reads the rule's published settings (and follows them), and runs a TargetConsumer.
 */
export class TargetWorker {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedConsumerOptions,
    readonly nc: NatsConnection,
    readonly logger: Logger,
    private readonly consumer: TargetConsumer,
    private readonly publisher: JetStreamPublisher,
    private readonly following: { stop(): void } | undefined,
  ) {}

  /** Joins the target's workers; `parts` is called once connected, before any partition is taken. */
  static async join(
    options: ResolvedConsumerOptions,
    parts: (context: {
      nc: NatsConnection;
      logger: Logger;
      partitions: number;
      publisher: JetStreamPublisher;
    }) => Promise<WorkerParts>,
  ): Promise<TargetWorker> {
    const logger = options.logger ?? stderrLogger('warn', { consumer: options.target });
    const nc =
      options.connection ?? (await connectNats({ url: options.natsUrl, name: options.name, logger }));
    try {
      // The rule's settings, as the routers publish them; none when no router ran here yet.
      const routing = await openRoutingBucket(nc, options.streamPrefix).catch(() => undefined);
      const published = routing ? await readTargetSettings(routing, options.target) : undefined;
      const settings: ConsumerSettings = consumerSettings(options, published);
      if (!published)
        logger.info(
          { target: options.target },
          "no router has published this target's settings yet: using the consumer's options",
        );
      const publisher = new JetStreamPublisher(nc);
      const { handler, lifecycle } = await parts({ nc, logger, partitions: settings.partitions, publisher });
      const live = { value: settings };
      const following = routing ? await followRuleSettings(routing, options, live, logger) : undefined;
      const consumer = new TargetConsumer({
        nc,
        streamPrefix: options.streamPrefix,
        deliveryStream: streamNames(options.streamPrefix).delivery,
        target: options.target,
        partitions: settings.partitions,
        handler,
        retryPolicy: () => live.value.retry,
        deadLetters: jetStreamDeadLetterSink(publisher, options.streamPrefix),
        leaseBuckets: await openLeaseBuckets(
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
        ...(lifecycle ? { lifecycle } : {}),
        tuning: options.tuning,
        logger,
      });
      const worker = new TargetWorker(options, nc, logger, consumer, publisher, following);
      await consumer.start();
      return worker;
    } catch (err) {
      if (!options.connection) await nc.close();
      throw err;
    }
  }

  /** Partitions this process consumes now. */
  ownedPartitions(): number[] {
    return this.consumer.ownedPartitions();
  }

  /** Stops taking deliveries, lets running handlers finish, gives the partitions back. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.following?.stop();
      await this.consumer.stop();
      await this.publisher.close();
      if (!this.options.connection) await this.nc.drain();
    })();
    return this.closing;
  }
}
