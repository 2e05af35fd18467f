import type { FuzeConfig, Logger } from '@fuze/core';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { type LeaseBuckets, leaseTtlMs } from './partition-leases.js';

/** The KV buckets Fuze keeps its shared state in, for one stream prefix. */
export function bucketNames(prefix: string): {
  leases: string;
  leaseOwners: string;
  checkpoints: string;
  routing: string;
  flow: string;
} {
  return {
    leases: `${prefix}_LEASES`,
    leaseOwners: `${prefix}_LEASE_OWNERS`,
    checkpoints: `${prefix}_CHECKPOINTS`,
    routing: `${prefix}_ROUTING`,
    flow: `${prefix}_FLOW`,
  };
}

interface DesiredBucket {
  name: string;
  description: string;
  ttlMs: number;
}

function desiredBuckets(prefix: string): DesiredBucket[] {
  const names = bucketNames(prefix);
  return [
    {
      name: names.leases,
      description: "Fuze: lease group members' heartbeats and worker reports (entries expire after the TTL)",
      ttlMs: leaseTtlMs,
    },
    {
      name: names.leaseOwners,
      description: 'Fuze: the owner of each partition and routing shard (written only when one moves)',
      ttlMs: 0,
    },
    {
      name: names.checkpoints,
      description: "Fuze: each routing shard's last routed position, so a lost consumer never rewinds",
      ttlMs: 0,
    },
    {
      name: names.routing,
      description: "Fuze: the routing shard count and each bus's ordering key, read by every publisher",
      ttlMs: 0,
    },
    {
      name: names.flow,
      description: "Fuze: each target's flow-control state (its circuit breaker), shared by every worker",
      ttlMs: 0,
    },
  ];
}

/**
 * Creates Fuze's KV buckets with `FUZE_STREAM_REPLICAS` replicas, and brings an existing bucket's
 * replicas and TTL to what the configuration says, in place (JetStream changes both without
 * losing entries). Shared state on one replica would let one NATS node stop every router and
 * dispatcher, so a bucket is never left below the streams' replication.
 */
export async function ensureBuckets(
  jsm: JetStreamManager,
  streams: FuzeConfig['streams'],
  logger: Logger,
): Promise<void> {
  const kvm = new Kvm(jsm.jetstream());
  for (const bucket of desiredBuckets(streams.prefix)) {
    const stream = `KV_${bucket.name}`;
    let info: Awaited<ReturnType<JetStreamManager['streams']['info']>>;
    try {
      info = await jsm.streams.info(stream);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await kvm.create(bucket.name, {
        history: 1,
        replicas: streams.replicas,
        description: bucket.description,
        ...(bucket.ttlMs > 0 ? { ttl: bucket.ttlMs } : {}),
      });
      logger.info({ bucket: bucket.name, replicas: streams.replicas }, 'created KV bucket');
      continue;
    }
    const desired = { num_replicas: streams.replicas, max_age: nanos(bucket.ttlMs) };
    const current = { num_replicas: info.config.num_replicas, max_age: info.config.max_age };
    if (current.num_replicas === desired.num_replicas && current.max_age === desired.max_age) continue;
    await jsm.streams.update(stream, { ...info.config, ...desired });
    logger.warn(
      { bucket: bucket.name, from: current, to: desired },
      'updated KV bucket settings to match the configuration',
    );
  }
}

/**
 * The buckets of leases: heartbeats (with the lease TTL) and owners (no TTL). `fuze serve`
 * provisions them (ensureBuckets); an SDK consumer binds to them, creating them with one replica
 * only when it runs before any Fuze server.
 */
export async function openLeaseBuckets(
  nc: NatsConnection,
  prefix: string,
  ttlMs: number = leaseTtlMs,
): Promise<LeaseBuckets> {
  const kvm = new Kvm(nc);
  const names = bucketNames(prefix);
  return {
    heartbeats: await kvm.create(names.leases, { ttl: ttlMs, history: 1 }),
    owners: await kvm.create(names.leaseOwners, { history: 1 }),
  };
}

/** The bucket of routing checkpoints (no TTL), provisioned by ensureBuckets. */
export async function openCheckpointBucket(nc: NatsConnection, prefix: string): Promise<KV> {
  return new Kvm(nc).create(bucketNames(prefix).checkpoints, { history: 1 });
}

/** The bucket of routing settings (no TTL), provisioned by ensureBuckets; see RoutingTable. */
export async function openRoutingBucket(nc: NatsConnection, prefix: string): Promise<KV> {
  return new Kvm(nc).open(bucketNames(prefix).routing);
}

/** The bucket of per-target flow-control state (no TTL), provisioned by ensureBuckets; see CircuitBreaker. */
export async function openFlowBucket(nc: NatsConnection, prefix: string): Promise<KV> {
  return new Kvm(nc).create(bucketNames(prefix).flow, { history: 1 });
}
