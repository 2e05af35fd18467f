import type { LeaseFence } from '@fuze/bus';
import { type Logger, retryDelayMs } from '@fuze/core';
import type { ConsumerInfo, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AckedMessages } from './acked-by-partition.js';
import type { DeliveryHandler } from './delivery.js';
import {
  type DeliveryConsumerSpec,
  ensureSharedConsumer,
  openPartitionConsumer,
} from './delivery-consumers.js';
import { PartitionSession } from './partition-session.js';

export interface PartitionConsumerOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  consumer: DeliveryConsumerSpec;
  handler: DeliveryHandler;
  /** The partition's lease (`openFence` for the unordered subject). */
  fence: LeaseFence;
  /** Told each ack the consumer's leader confirmed (see LostAckRepair). */
  ackConfirmed?: (streamSequence: number) => void;
  /** What this worker acked on the partition, kept across its leases (AckedByPartition). */
  acked: AckedMessages;
  logger: Logger;
}

// A partition reopens at most 1 s after JetStream answers again (a leader election ends).
const maxReopenDelayMs = 1_000;

/**
 * Keeps one delivery subject consumed while it is ours: opens a session, and when a session ends
 * (lost messages after a reconnect, consumer deleted, NATS down) closes it and opens the next one,
 * with backoff while JetStream does not answer. An ordered partition keeps its durable across
 * sessions and owners; each session starts by having what the durable still waits an ack for
 * redelivered, in stream order, before anything newer. The unordered subject shares one durable.
 */
export class PartitionConsumer {
  private readonly acked: AckedMessages;
  private readonly stopRequested: Promise<void>;
  private requestStop: () => void = () => {};
  private stopping = false;
  private loop: Promise<void> | undefined;
  private graceMs: number;

  constructor(private readonly options: PartitionConsumerOptions) {
    this.graceMs = options.consumer.tuning.shutdownGraceMs;
    this.acked = options.acked;
    this.stopRequested = new Promise((resolve) => {
      this.requestStop = resolve;
    });
  }

  /** Starts consuming in the background (never blocks on JetStream). */
  start(): void {
    this.loop ??= this.supervise();
  }

  /** Stops pulling and drains: running attempts get `graceMs`, then are aborted and left unacked. */
  async stop(graceMs: number): Promise<void> {
    this.graceMs = graceMs;
    this.stopping = true;
    this.requestStop();
    await this.loop;
  }

  private async supervise(): Promise<void> {
    const { consumer, logger } = this.options;
    const context = { target: consumer.target, partition: consumer.partition };
    let failures = 0;
    while (!this.stopping) {
      if (!this.options.fence.mayStart()) {
        // Fenced: never reopen (that would send the next owner's unacked messages back to the
        // redelivery queue); the lease round hands the partition over and stops this consumer.
        await Promise.race([this.stopRequested, sleep(250)]);
        continue;
      }
      const session = new PartitionSession({
        js: this.options.js,
        target: consumer.target,
        partition: consumer.partition,
        mode: consumer.partition === 'unordered' ? 'shared' : 'exclusive',
        fence: this.options.fence,
        handler: this.options.handler,
        tuning: consumer.tuning,
        acked: this.acked,
        ...(this.options.ackConfirmed ? { ackConfirmed: this.options.ackConfirmed } : {}),
        logger,
      });
      try {
        await session.open(await this.createConsumer());
      } catch (err) {
        failures += 1;
        await session.close(0);
        if (this.stopping) break;
        const delay = retryDelayMs(failures, 250, maxReopenDelayMs);
        logger.warn({ err, ...context, retryInMs: delay }, 'cannot open the delivery consumer; retrying');
        await Promise.race([this.stopRequested, sleep(delay)]);
        continue;
      }
      failures = 0;
      const reason = await Promise.race([session.ended, this.stopRequested.then(() => 'stopping')]);
      if (reason !== 'stopping')
        logger.info({ ...context, reason }, 'restarting the partition from its ack floor');
      await session.close(this.stopping ? this.graceMs : consumer.tuning.releaseGraceMs);
      // Deleted under us: by an operator, or lost with its node (a consumer of one replica):
      // wait one lease round, then recreate it if the partition is still ours.
      if (reason === 'consumer deleted')
        await Promise.race([this.stopRequested, sleep(consumer.tuning.leaseTtlMs / 4)]);
    }
  }

  private createConsumer(): Promise<ConsumerInfo> {
    const { jsm, consumer } = this.options;
    return consumer.partition === 'unordered'
      ? ensureSharedConsumer(jsm, consumer)
      : openPartitionConsumer(this.options.nc, jsm, consumer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
