import { partitionFor } from '../partition.js';
import type { CloudEventRecord } from './cloud-event.js';
import type { JsonPath } from './json-path.js';

/** The routing shards of a deployment that sets no `FUZE_ROUTING_SHARDS`. */
export const defaultRoutingShards = 16;

/**
 * Chooses the routing shard of an event published on a bus. Every publisher of a deployment
 * (gateway, SDK, scheduler, replays) must choose alike, so the one implementation reads the
 * deployment's routing settings from NATS (`RoutingTable` in @fuze/bus).
 */
export interface EventRouting {
  shardOf(bus: string, event: CloudEventRecord): number;
}

/**
 * An event's routing key: the value at its bus's ordering key path (a `kind: Bus` document's
 * `orderingKey`) when the event has one, else its `partitionkey` extension, else its `subject`,
 * else its `source`. Events that share it are routed in the order the bus accepted them, which
 * is what keeps per-key delivery order across several router instances.
 */
export function routingKeyOf(event: CloudEventRecord, orderingKey?: JsonPath): string {
  const ordered = orderingKey === undefined ? undefined : keyText(orderingKey.read(event));
  return ordered ?? stringOr(event.partitionkey) ?? stringOr(event.subject) ?? event.source;
}

export function routingShardOf(event: CloudEventRecord, shards: number, orderingKey?: JsonPath): number {
  return partitionFor(routingKeyOf(event, orderingKey), shards);
}

/**
 * The routing of a deployment with default settings: 16 shards, no bus ordering keys. For
 * tests and benchmarks that publish into a bus they provisioned themselves.
 */
export const defaultRouting: EventRouting = {
  shardOf: (_bus, event) => routingShardOf(event, defaultRoutingShards),
};

/**
 * An ordering key's value as text, as the router's `ordering.partitionKey` reads it: strings as
 * they are, other JSON values as JSON; absent and empty as undefined.
 */
function keyText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The attributes' fallback, as before bus ordering keys existed: non-empty strings only. */
function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
