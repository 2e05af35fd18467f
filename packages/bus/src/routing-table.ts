import {
  type CloudEventRecord,
  type EventRouting,
  FuzeError,
  type JsonPath,
  type Logger,
  parseJsonPath,
  routingShardOf,
} from '@fuze/core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import { isWrongLastSequence } from './compare-and-swap.js';
import { bucketNames, openRoutingBucket } from './kv-buckets.js';

/** The key holding the deployment's routing shard count. */
export const routingShardsKey = 'shards';

/** The key holding a bus's routing settings (JSON `BusRouting` and its bus revision); absent: none. */
export function busRoutingKey(bus: string): string {
  return `bus.${bus}`;
}

/** What a `kind: Bus` document says about routing. */
export interface BusRouting {
  /** A JSON path such as `$.data.customerId`: the bus's events are routed by its value. */
  orderingKey?: string;
}

/**
 * Every publisher's view of the deployment's routing: the shard count and each bus's ordering key,
 * read from the `<P>_ROUTING` bucket and kept current by one watch, so the gateway, the SDK, the
 * scheduler and replays choose an event's routing shard alike. The bucket is the data plane's copy
 * of what `fuze apply` stored in Postgres (the admin writes it after each apply; routers write it
 * again whenever they load the rules, so a copy missed by a crash is repaired).
 */
export class RoutingTable implements EventRouting {
  private readonly keys = new Map<string, JsonPath>();

  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private closed = false;

  private constructor(
    readonly shards: number,
    private readonly kv: KV,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Reads the current settings and starts the watch. Throws FUZE_BUS_UNAVAILABLE when no Fuze
   * server has provisioned this prefix on this NATS (`fuze serve` creates the bucket).
   */
  static async open(nc: NatsConnection, prefix: string, logger?: Logger): Promise<RoutingTable> {
    let kv: KV;
    let shards: number | undefined;
    try {
      kv = await openRoutingBucket(nc, prefix);
      shards = Number((await kv.get(routingShardsKey))?.string());
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
        throw notProvisioned(prefix, err);
      throw err;
    }
    if (!Number.isInteger(shards) || shards < 1) throw notProvisioned(prefix);
    const table = new RoutingTable(shards, kv, logger);
    await table.watch();
    return table;
  }

  shardOf(bus: string, event: CloudEventRecord): number {
    return routingShardOf(event, this.shards, this.keys.get(bus));
  }

  /** The bus's ordering key path as in force here, for logs and tests. */
  orderingKeyOf(bus: string): string | undefined {
    return this.keys.get(bus)?.text;
  }

  close(): void {
    this.closed = true;
    this.watcher?.stop();
  }

  /**
   * Starts a watch and resolves once it delivered the current values. A watch that ends while the
   * table is open (its consumer lost in a long outage) is started again, replaying every value, so
   * a publisher never keeps routing by settings it can no longer hear about.
   */
  private async watch(): Promise<void> {
    const watcher = await this.kv.watch({ key: 'bus.>' });
    this.watcher = watcher;
    // Without any bus settings the watch delivers nothing; `status` tells whether to wait.
    const waitForValues = (await this.kv.status()).values > 1;
    await new Promise<void>((loaded) => {
      if (!waitForValues) loaded();
      void (async () => {
        for await (const entry of watcher) {
          this.apply(entry);
          if (entry.delta === 0 || entry.isUpdate) loaded();
        }
      })()
        .catch((err) => this.logger?.warn({ err }, 'the watch of routing settings failed'))
        .finally(() => {
          loaded();
          if (!this.closed) void this.watchAgain();
        });
    });
  }

  private async watchAgain(): Promise<void> {
    while (!this.closed) {
      await new Promise((r) => setTimeout(r, 1_000).unref());
      if (this.closed) return;
      try {
        await this.watch();
        this.logger?.info('watching routing settings again');
        return;
      } catch (err) {
        this.logger?.warn({ err }, 'cannot watch routing settings yet; trying again');
      }
    }
  }

  private apply(entry: KvWatchEntry): void {
    const bus = entry.key.slice('bus.'.length);
    if (entry.operation !== 'PUT') {
      this.keys.delete(bus);
      return;
    }
    const path = orderingKeyPath(entry.string());
    if (path === undefined) this.keys.delete(bus);
    else this.keys.set(bus, path);
  }
}

/**
 * Writes a bus's routing settings as of its bus revision (Postgres `bus_revisions`), unless the
 * bucket already holds that revision or a newer one: several routers write the same settings, and
 * one that loaded an older revision must not undo a newer one. Compare-and-swap, so two writers
 * never interleave. Returns whether it wrote.
 */
export async function publishBusRouting(
  kv: KV,
  bus: string,
  revision: number,
  routing: BusRouting,
): Promise<boolean> {
  const key = busRoutingKey(bus);
  const value = JSON.stringify({ revision, ...routing });
  for (;;) {
    const current = await kv.get(key);
    try {
      if (current === null || current.operation !== 'PUT') {
        if (current === null) await kv.create(key, value);
        else await kv.update(key, value, current.revision);
        return true;
      }
      if (storedRevision(current.string()) >= revision) return false;
      await kv.update(key, value, current.revision);
      return true;
    } catch (err) {
      // Another writer got there first (wrong last sequence): read again and compare.
      if (!isWrongLastSequence(err)) throw err;
    }
  }
}

function storedRevision(value: string): number {
  try {
    const revision = (JSON.parse(value) as { revision?: unknown }).revision;
    return typeof revision === 'number' ? revision : 0;
  } catch {
    return 0;
  }
}

function orderingKeyPath(value: string): JsonPath | undefined {
  let text: unknown;
  try {
    text = (JSON.parse(value) as BusRouting).orderingKey;
  } catch {
    return undefined;
  }
  if (typeof text !== 'string') return undefined;
  const parsed = parseJsonPath(text);
  return parsed.ok ? parsed.path : undefined;
}

function notProvisioned(prefix: string, cause?: unknown): FuzeError {
  return new FuzeError(
    'FUZE_BUS_UNAVAILABLE',
    `the routing settings of stream prefix ${prefix} (KV bucket ${bucketNames(prefix).routing}) are not on this NATS: ` +
      'start `fuze serve` against it once (it provisions the streams and buckets), or check the stream prefix',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Records the deployment's routing shard count on first start-up, and refuses one that differs:
 * events already in the stream were placed by the recorded count, and routing them by another
 * would break per-key order.
 */
export async function recordRoutingShards(kv: KV, prefix: string, shards: number): Promise<void> {
  const recorded = await kv.get(routingShardsKey);
  if (recorded === null || recorded.operation !== 'PUT') {
    try {
      await kv.create(routingShardsKey, String(shards));
      return;
    } catch {
      // Another instance recorded it first: compare with that.
    }
  }
  const current = Number((await kv.get(routingShardsKey))?.string());
  if (current === shards) return;
  throw new FuzeError(
    'FUZE_TOPOLOGY_CONFLICT',
    `FUZE_ROUTING_SHARDS is ${shards}, but stream prefix ${prefix} was set up with ${current} routing shards ` +
      `(KV bucket ${bucketNames(prefix).routing}, key ${routingShardsKey}); every instance must use the same ` +
      'count and it cannot change while events are in the stream: set FUZE_ROUTING_SHARDS=' +
      `${current}, or start the new count under another FUZE_STREAM_PREFIX (docs/operations.md, "Routing shards")`,
    { details: { variable: 'FUZE_ROUTING_SHARDS', current, desired: shards } },
  );
}
