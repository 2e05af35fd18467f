import { randomUUID } from 'node:crypto';
import {
  failoverRequestTimeoutMs,
  type LeaseBuckets,
  type LeaseFence,
  openFence,
  PartitionLeases,
} from '@fuze/bus';
import type { Clock, Logger } from '@fuze/core';
import type { CircuitBreakerPolicy, RateLimitPolicy, RetryPolicy } from '@fuze/rules';
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckedByPartition } from './acked-by-partition.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { circuitBreakerMiddleware } from './circuit-breaker-middleware.js';
import { concurrencyLimit } from './concurrency-limit.js';
import { type DeadLetterSink, deadLetterMiddleware } from './dead-letter-middleware.js';
import { composeHandler, type Delivery, type DeliveryHandler, type DeliveryMiddleware } from './delivery.js';
import { type DeliveryMetrics, uncountedDeliveries } from './delivery-metrics.js';
import { deliveryTelemetry } from './delivery-telemetry.js';
import { NonRetryableError } from './errors.js';
import { leaseFencing } from './lease-fencing.js';
import { LostAckRepair } from './lost-ack-repair.js';
import { PartitionConsumer } from './partition-consumer.js';
import { rateLimitMiddleware } from './rate-limit-middleware.js';
import { retryMiddleware } from './retry-middleware.js';
import { ServerClock } from './server-clock.js';
import { SharedConcurrency } from './shared-concurrency.js';
import { sharedConcurrencyMiddleware } from './shared-concurrency-middleware.js';
import { SharedRateLimit } from './shared-rate-limit.js';
import { TargetStats } from './target-stats.js';
import { type DeliveryTuning, defaultDeliveryTuning } from './tuning.js';

/** A target's flow-control settings, as its rule defines them (a TargetSpec has these fields). */
export interface FlowSettings {
  readonly circuitBreaker?: CircuitBreakerPolicy;
  readonly rateLimit?: RateLimitPolicy;
  readonly maxConcurrency?: number;
}

/**
 * What a stateful consumer does as partitions come and go. `assigned` runs when this process
 * gains a partition, before it consumes any of it (a processor restores the partition's state
 * there): it must keep trying until it succeeds or `signal` aborts (the partition was lost
 * meanwhile). `revoked` runs once the partition's consumption has stopped and drained.
 */
export interface PartitionLifecycle {
  assigned(partition: number, fence: LeaseFence, signal: AbortSignal): Promise<void>;
  revoked(partition: number): void | Promise<void>;
}

export interface TargetConsumerOptions {
  nc: NatsConnection;
  /** FUZE_STREAM_PREFIX: names the consumers and subjects. */
  streamPrefix: string;
  /** The `<P>_DELIVERY` stream. */
  deliveryStream: string;
  target: string;
  /** The target's `ordering.partitions` (default 16 in rules). */
  partitions: number;
  /** Delivers once: resolve = done, throw = failed (see DeliveryError for what happens next). */
  handler: DeliveryHandler;
  /** The target's retry policy, read at each failure. */
  retryPolicy(delivery: Delivery): RetryPolicy;
  deadLetters: DeadLetterSink;
  /** The lease buckets (`openLeaseBuckets`) shared by every worker of the target. */
  leaseBuckets: LeaseBuckets;
  /**
   * The flow bucket (`openFlowBucket`) and the target's current flow-control settings (its
   * circuit breaker, rate limit and `maxConcurrency`), read at each attempt; without them the
   * target has none.
   */
  flowControl?: { bucket: KV; settings(): FlowSettings | undefined };
  /** Seams for tracing and metrics: `delivery` wraps the whole delivery, `attempt` each attempt. */
  middleware?: { delivery?: DeliveryMiddleware[]; attempt?: DeliveryMiddleware[] };
  /** What to count deliveries into: the dispatcher passes prometheusDeliveryMetrics; default none. */
  metrics?: DeliveryMetrics;
  tuning?: Partial<DeliveryTuning>;
  /** Names this worker in its reports and flow-control state (default: a random id). */
  memberId?: string;
  /** Names this worker in lease keys and logs (a unique suffix is added at each join). */
  memberName?: string;
  /** For stateful consumers: runs as partitions are gained and lost (see PartitionLifecycle). */
  lifecycle?: PartitionLifecycle;
  logger: Logger;
  clock?: Clock;
}

/**
 * Consumes one target's deliveries in this process, alongside any number of other processes:
 * - ordered partitions `<p>.deliver.<target>.<n>`: one owner at a time (PartitionLeases), each
 *   re-read from its ack floor by a new owner; inside a partition, keys run concurrently and each
 *   key strictly in order, so a failing event holds back only its own key;
 * - `<p>.deliver.<target>.unordered`: a shared durable every worker pulls from, fully parallel.
 *
 * Every message goes through: telemetry (process span, delivered/latency metrics) → delivery middleware → dead-letter → retry → circuit breaker → concurrency limit (this process, then the target's) → rate limit →
 * lease fencing → attempt middleware → handler. A message is acked once delivered or dead-lettered.
 */
export class TargetConsumer {
  readonly tuning: DeliveryTuning;
  private readonly pipeline: DeliveryHandler;
  private readonly partitions = new Map<number, PartitionConsumer>();
  /** Partitions whose previous consumer is still stopping. */
  private readonly draining = new Map<number, Promise<void>>();
  /** Partitions whose `lifecycle.assigned` may still be running: aborted when they are released. */
  private readonly assigning = new Map<number, AbortController>();
  private unordered: PartitionConsumer | undefined;
  private clients: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager } | undefined;
  private readonly leases: PartitionLeases;
  private readonly breaker: CircuitBreaker | undefined;
  private readonly slots: SharedConcurrency | undefined;
  private readonly rate: SharedRateLimit | undefined;
  /** The NATS server's clock, which every worker of the target reads for its flow-control state. */
  private readonly flowClock: ServerClock | undefined;
  private readonly stats: TargetStats;
  private readonly lostAcks: LostAckRepair;
  /** Set at start, once the delivery stream's dedupe window is known. */
  private acked = new AckedByPartition(0);
  private stopping = false;
  private readonly logger: Logger;

  constructor(private readonly options: TargetConsumerOptions) {
    this.tuning = { ...defaultDeliveryTuning, ...options.tuning };
    const logger = options.logger.child({ target: options.target });
    this.logger = logger;
    this.lostAcks = new LostAckRepair(options.deliveryStream, logger);
    const handler: DeliveryHandler = (delivery) =>
      delivery.problem ? Promise.reject(new NonRetryableError(delivery.problem)) : options.handler(delivery);
    const flow = options.flowControl;
    const memberId = options.memberId ?? randomUUID();
    this.stats = new TargetStats({
      kv: options.leaseBuckets.heartbeats,
      target: options.target,
      memberId,
      snapshot: () => ({
        partitions: this.ownedPartitions(),
        ...(flow?.settings()?.circuitBreaker && this.breaker ? { breaker: this.breaker.state.state } : {}),
      }),
      logger,
    });
    const metrics = this.stats.counting(options.metrics ?? uncountedDeliveries);
    if (flow) {
      const target = options.target;
      this.flowClock = new ServerClock(flow.bucket, `clock.${target}.${memberId}`, options.clock);
      const clock = { clock: this.flowClock };
      this.breaker = new CircuitBreaker({
        kv: flow.bucket,
        target,
        memberId,
        policy: () => flow.settings()?.circuitBreaker,
        onState: (state) => metrics.breakerState?.(target, state),
        logger,
        ...clock,
      });
      this.slots = new SharedConcurrency({
        kv: flow.bucket,
        target,
        memberId,
        limit: () => flow.settings()?.maxConcurrency,
        logger,
        ...clock,
      });
      this.rate = new SharedRateLimit({
        kv: flow.bucket,
        target,
        policy: () => flow.settings()?.rateLimit,
        logger,
        ...clock,
      });
    }
    this.pipeline = composeHandler(
      handler,
      deliveryTelemetry(options.streamPrefix, metrics),
      ...(options.middleware?.delivery ?? []),
      deadLetterMiddleware({
        sink: options.deadLetters,
        streamPrefix: options.streamPrefix,
        logger,
        metrics,
        ...(options.clock ? { clock: options.clock } : {}),
      }),
      retryMiddleware({
        policy: options.retryPolicy,
        metrics,
        ...(options.clock ? { clock: options.clock } : {}),
      }),
      ...(this.breaker ? [circuitBreakerMiddleware(() => this.breaker, options.clock)] : []),
      concurrencyLimit(this.tuning.maxConcurrency),
      sharedConcurrencyMiddleware(this.slots),
      rateLimitMiddleware(this.rate),
      this.stats.middleware(),
      leaseFencing(),
      ...(options.middleware?.attempt ?? []),
    );
    this.leases = new PartitionLeases(options.leaseBuckets, {
      group: `deliver.${options.target}`,
      partitions: options.partitions,
      ttlMs: this.tuning.leaseTtlMs,
      logger,
      ...(options.memberName ? { memberName: options.memberName } : {}),
      owner: {
        acquired: (partition, fence) => this.acquired(partition, fence),
        released: (partition) => this.released(partition, this.tuning.releaseGraceMs),
      },
    });
  }

  get target(): string {
    return this.options.target;
  }

  get partitionCount(): number {
    return this.options.partitions;
  }

  /** Partitions this process consumes now. */
  ownedPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    // Opening a partition's durable retries soon after a leader election (see failoverRequestTimeoutMs).
    const jsm = await jetstreamManager(this.options.nc, { timeout: failoverRequestTimeoutMs });
    this.clients = { nc: this.options.nc, js: jsm.jetstream(), jsm };
    this.acked = new AckedByPartition(await this.dedupeWindowMs(jsm));
    this.lostAcks.watch(this.clients.nc, this.clients.jsm);
    this.unordered = this.partitionConsumer('unordered', openFence);
    this.unordered.start();
    await this.flowClock?.start();
    await this.leases.start();
    this.stats.start();
  }

  /** The delivery stream's dedupe window; unknown (NATS not answering): 0, delivery ids are not matched. */
  private async dedupeWindowMs(jsm: JetStreamManager): Promise<number> {
    try {
      return (await jsm.streams.info(this.options.deliveryStream)).config.duplicate_window / 1e6;
    } catch (err) {
      this.logger.warn(
        { err },
        'cannot read the delivery stream dedupe window; acked delivery ids are not matched',
      );
      return 0;
    }
  }

  /** Drains every partition at once (running attempts get `shutdownGraceMs`), then gives the leases back. */
  async stop(): Promise<void> {
    this.stopping = true;
    const grace = this.tuning.shutdownGraceMs;
    await Promise.all([
      this.unordered?.stop(grace),
      ...this.ownedPartitions().map((partition) => this.released(partition, grace)),
      ...this.draining.values(),
    ]);
    await this.leases.stop();
    this.lostAcks.stop();
    this.breaker?.stop();
    this.slots?.stop();
    this.flowClock?.stop();
    this.stats.stop();
  }

  /**
   * Starts consuming a partition just leased. If this process is still draining it from an
   * earlier lease (a self-fenced lease is released without waiting), the new consumer starts
   * once that drain is over, so a partition never has two sessions here; with a lifecycle, once
   * `assigned` is done too.
   */
  private acquired(partition: number, fence: LeaseFence): void {
    if (this.stopping || !this.clients || this.partitions.has(partition)) return;
    const consumer = this.partitionConsumer(partition, fence);
    this.partitions.set(partition, consumer);
    const draining = this.draining.get(partition);
    const { lifecycle } = this.options;
    if (!draining && !lifecycle) {
      consumer.start();
      return;
    }
    const ready = (async () => {
      await draining;
      if (!lifecycle || this.partitions.get(partition) !== consumer) return;
      const assigning = new AbortController();
      this.assigning.set(partition, assigning);
      try {
        await lifecycle.assigned(partition, fence, assigning.signal);
      } finally {
        if (this.assigning.get(partition) === assigning) this.assigning.delete(partition);
      }
    })();
    ready.then(
      () => this.partitions.get(partition) === consumer && consumer.start(),
      (err: unknown) => {
        if (this.partitions.get(partition) === consumer)
          this.logger.error({ err, partition }, 'cannot prepare a gained partition; it is not consumed');
      },
    );
  }

  private async released(partition: number, graceMs: number): Promise<void> {
    const consumer = this.partitions.get(partition);
    if (!consumer) return;
    this.partitions.delete(partition);
    this.acked.released(partition);
    this.assigning.get(partition)?.abort();
    const stopped = (async () => {
      await consumer.stop(graceMs);
      try {
        await this.options.lifecycle?.revoked(partition);
      } catch (err) {
        this.logger.error({ err, partition }, 'the revoked-partition hook failed');
      }
    })();
    this.draining.set(partition, stopped);
    await stopped;
    if (this.draining.get(partition) === stopped) this.draining.delete(partition);
  }

  private partitionConsumer(partition: number | 'unordered', fence: LeaseFence): PartitionConsumer {
    return new PartitionConsumer({
      ...this.clients!,
      consumer: {
        stream: this.options.deliveryStream,
        prefix: this.options.streamPrefix,
        target: this.options.target,
        partition,
        tuning: this.tuning,
      },
      handler: this.pipeline,
      fence,
      ackConfirmed: (sequence) => this.lostAcks.confirmed(sequence),
      acked: this.acked.acquired(partition),
      logger: this.logger,
    });
  }
}
