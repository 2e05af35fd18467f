import { randomUUID } from 'node:crypto';
import {
  Checkpoint,
  failoverRequestTimeoutMs,
  leaseTtlMs,
  openCheckpointBucket,
  openLeaseBuckets,
  openRoutingBucket,
  PartitionLeases,
  publishBusRouting,
  publishTargetSettings,
  whileUnavailable,
} from '@fuze/bus';
import { RoutingStats, type RuleSnapshot, ruleSnapshotOf } from '@fuze/routing';
import { type CatalogBus, loadRuleCatalog, RulesWatcher, type ServiceModule } from '@fuze/runtime';
import { jetstreamManager } from '@nats-io/jetstream';
import { consumerTargetSettings } from './consumer-target-settings.js';
import { RouterCounters } from './router-metrics.js';

import { ShardRouter } from './shard-router.js';

/**
 * The router: matches every event against its bus's rules and fans it out to deliveries.
 * The events stream is split into routing shards; router instances share them through leases
 * (one owner per shard), and each shard is routed in order.
 */
export const routerModule: ServiceModule = {
  name: 'router',
  async start(context) {
    const prefix = context.config.streams.prefix;
    let rules: RuleSnapshot = new Map();
    const routingBucket = await whileUnavailable(
      'opening the routing bucket',
      () => openRoutingBucket(context.nats, prefix),
      context.logger,
    );
    const watcher = new RulesWatcher({
      db: context.database.db,
      nats: context.nats,
      prefix,
      load: async () => {
        const catalog = await loadRuleCatalog(context.database.db);
        return { snapshot: ruleSnapshotOf(catalog, context.logger), buses: catalog.buses, catalog };
      },
      apply: async ({ snapshot, buses, catalog }) => {
        rules = snapshot;
        // The publishers' copy of each bus's routing settings; a throw loads and writes again.
        await publishRoutingOf(buses);
        // SDK consumers' copy of their targets' settings.
        for (const [name, settings] of consumerTargetSettings(catalog))
          await whileUnavailable(
            `publishing the settings of target ${name}`,
            () => publishTargetSettings(routingBucket, name, settings),
            context.logger,
          );
      },
      // Routing with no rules would ack every event unmatched.
      firstLoad: 'required',
      logger: context.logger,
    });
    const publishRoutingOf = async (buses: readonly CatalogBus[]) => {
      for (const { bus, revision, document } of buses) {
        const orderingKey = document?.orderingKey;
        // A leader election must not fail a router's start: wait it out like the other buckets.
        const wrote = await whileUnavailable(
          `publishing the routing settings of bus ${bus}`,
          () => publishBusRouting(routingBucket, bus, revision, orderingKey ? { orderingKey } : {}),
          context.logger,
        );
        if (wrote) context.logger.info({ bus, revision, orderingKey }, 'published bus routing settings');
      }
    };
    await watcher.start();
    const counters = new RouterCounters();
    const shards = new Map<number, ShardRouter>();
    const checkpoints = await whileUnavailable(
      'opening the checkpoints bucket',
      () => openCheckpointBucket(context.nats, prefix),
      context.logger,
    );
    const leaseBuckets = await whileUnavailable(
      'opening the lease buckets',
      () => openLeaseBuckets(context.nats, prefix),
      context.logger,
    );
    // Opening a shard's durable retries soon after a leader election (see failoverRequestTimeoutMs).
    const openingJsm = await jetstreamManager(context.nats, { timeout: failoverRequestTimeoutMs });
    const openingJs = openingJsm.jetstream();
    const routingStats = new RoutingStats({
      kv: leaseBuckets.heartbeats,
      memberId: randomUUID(),
      counts: () => ({ perBus: counters.routedPerBus, perRule: counters.matchedPerRule }),
      logger: context.logger,
    });
    const leases = new PartitionLeases(leaseBuckets, {
      group: 'router',
      partitions: context.config.streams.routingShards,
      ttlMs: leaseTtlMs,
      logger: context.logger,
      owner: {
        acquired(shard, fence) {
          shards.set(
            shard,
            new ShardRouter(shard, {
              js: openingJs,
              jsm: openingJsm,
              publisher: context.publisher,
              eventsStream: context.streams.events,
              prefix,
              logger: context.logger,
              rules: () => rules,
              maxPayloadBytes: () => context.nats.info?.max_payload ?? 1024 * 1024,
              routed: (plan, bus) => counters.record(plan, bus),
              unreadable: () => counters.unreadableSkipped(),
              fence,
              checkpoint: new Checkpoint(checkpoints, `router.${shard}`),
            }),
          );
        },
        async released(shard) {
          await shards.get(shard)?.stop();
          shards.delete(shard);
        },
      },
    });
    await leases.start();
    routingStats.start();
    context.logger.info({ shards: leases.ownedPartitions() }, 'router owns shards');
    return {
      counters,
      async stop() {
        routingStats.stop();
        await leases.stop();
        await watcher.stop();
      },
    };
  },
};
