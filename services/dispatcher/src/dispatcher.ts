import { type JetStreamPublisher, openFlowBucket, openLeaseBuckets, whileUnavailable } from '@fuze/bus';
import type { Logger } from '@fuze/core';
import type { FuzeDb } from '@fuze/db';
import {
  type DeliveryMiddleware,
  type DeliveryTuning,
  defaultDeliveryTuning,
  jetStreamDeadLetterSink,
  prometheusDeliveryMetrics,
  TargetConsumer,
} from '@fuze/delivery';
import { DEFAULT_RETRY_POLICY } from '@fuze/rules';
import { RulesWatcher } from '@fuze/runtime';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { deliverToTarget } from './deliver-to-target.js';
import type { SecretStore } from './secrets.js';
import {
  catalogFingerprint,
  dispatchedTargets,
  loadTargetCatalog,
  partitionsOf,
  type TargetCatalog,
} from './target-catalog.js';
import { TimerOutcomeRecorder } from './timer-outcome-recorder.js';

export interface DispatcherOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  /** Stores dead-letter records. */
  publisher: JetStreamPublisher;
  db: FuzeDb;
  streamPrefix: string;
  deliveryStream: string;
  secrets: SecretStore;
  logger: Logger;
  tuning?: Partial<DeliveryTuning>;
  /** Fallback poll of the rule revisions; default 5 s. */
  pollIntervalMs?: number;
  /** Tracing and metrics seams, applied to every target. */
  middleware?: { delivery?: DeliveryMiddleware[]; attempt?: DeliveryMiddleware[] };
}

export interface RunningDispatcher {
  /** Targets being consumed, with the partitions this process owns. */
  status(): Array<{ target: string; partitions: number[] }>;
  /** Reloads the targets now (tests; a rule notice does the same). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Delivers every http and nats target's deliveries: one TargetConsumer per target, started,
 * restarted (partition count changed) and stopped as rules come and go.
 */
export async function startDispatcher(options: DispatcherOptions): Promise<RunningDispatcher> {
  const { logger } = options;
  const tuning = { ...defaultDeliveryTuning, ...options.tuning };
  const leaseBuckets = await whileUnavailable(
    'opening the lease buckets',
    () => openLeaseBuckets(options.nc, options.streamPrefix, tuning.leaseTtlMs),
    options.logger,
  );
  const flowBucket = await whileUnavailable(
    'opening the flow bucket',
    () => openFlowBucket(options.nc, options.streamPrefix),
    options.logger,
  );
  const deadLetters = jetStreamDeadLetterSink(options.publisher, options.streamPrefix);
  let targets: TargetCatalog = new Map();
  const running = new Map<string, TargetConsumer>();
  const outcomes = new TimerOutcomeRecorder({ db: options.db, logger });
  const handler = outcomes.middleware()(deliverToTarget((name) => targets.get(name), { ...options }));

  const startTarget = async (name: string, partitions: number) => {
    const consumer = new TargetConsumer({
      nc: options.nc,
      streamPrefix: options.streamPrefix,
      deliveryStream: options.deliveryStream,
      target: name,
      partitions,
      handler,
      retryPolicy: (delivery) => targets.get(delivery.target)?.retry ?? DEFAULT_RETRY_POLICY,
      deadLetters,
      leaseBuckets,
      flowControl: { bucket: flowBucket, settings: () => targets.get(name) },
      metrics: prometheusDeliveryMetrics,
      tuning,
      logger,
      ...(options.middleware ? { middleware: options.middleware } : {}),
    });
    await consumer.start();
    running.set(name, consumer);
    logger.info({ target: name, partitions }, 'delivering to target');
  };

  const stopTarget = async (name: string) => {
    await running.get(name)?.stop();
    running.delete(name);
  };

  let applied: string | undefined;
  const apply = async (catalog: TargetCatalog) => {
    // A revision of another target's rule changes nothing here.
    const fingerprint = catalogFingerprint(catalog);
    if (fingerprint === applied) return;
    const next = dispatchedTargets(catalog);
    for (const [name, consumer] of running) {
      const spec = next.get(name);
      if (!spec || partitionsOf(spec) !== consumer.partitionCount) {
        logger.info({ target: name }, spec ? 'partition count changed; restarting target' : 'target removed');
        await stopTarget(name);
      }
    }
    targets = next;
    const failed: string[] = [];
    for (const [name, spec] of next) {
      if (running.has(name)) continue;
      try {
        await startTarget(name, partitionsOf(spec));
      } catch (err) {
        failed.push(name);
        logger.error({ err, target: name }, 'cannot start delivering to target; the next reload retries');
      }
    }
    if (failed.length > 0) throw new Error(`targets not started: ${failed.join(', ')}`);
    applied = fingerprint; // only once applied: a failed apply is tried again at the next reload
  };

  const watcher = new RulesWatcher({
    db: options.db,
    nats: options.nc,
    prefix: options.streamPrefix,
    load: () => loadTargetCatalog(options.db),
    apply,
    logger,
    ...(options.pollIntervalMs ? { pollMs: options.pollIntervalMs } : {}),
  });
  await watcher.start();

  return {
    status: () =>
      [...running].map(([target, consumer]) => ({ target, partitions: consumer.ownedPartitions() })),
    refresh: () => watcher.reload(),
    async stop() {
      await watcher.stop();
      await Promise.all([...running.keys()].map(stopTarget));
      await outcomes.stop();
    },
  };
}
