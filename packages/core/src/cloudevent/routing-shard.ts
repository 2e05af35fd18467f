import { partitionFor } from '../partition.js';
import type { CloudEventRecord } from './cloud-event.js';

/**
 * The events stream is split into this many routing shards; each is routed by one router
 * instance at a time, in order. Fixed: every publisher (gateway, SDK, scheduler) must agree.
 */
export const routerShards = 16;

/**
 * An event's routing shard: from its ordering identity, the `partitionkey` extension, else its
 * `subject`, else its `source`. Events that share it are routed in the order the bus accepted
 * them, which is what keeps per-key delivery order across several router instances.
 */
export function routingShardOf(event: CloudEventRecord): number {
  const key = stringOr(event.partitionkey) ?? stringOr(event.subject) ?? event.source;
  return partitionFor(key, routerShards);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
