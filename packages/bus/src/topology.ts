import {
  type FuzeConfig,
  FuzeError,
  type Logger,
  type StreamNames,
  streamNames,
  subjectRoot,
} from '@fuze/core';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { nanos } from '@nats-io/transport-node';
import { bucketNames, ensureBuckets } from './kv-buckets.js';
import { recordRoutingShards } from './routing-table.js';

type DesiredStream = Pick<
  StreamConfig,
  | 'name'
  | 'description'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'max_age'
  | 'duplicate_window'
  | 'num_replicas'
  | 'discard'
  | 'allow_direct'
>;

/** Settings JetStream (2.9) cannot change on an existing stream. */
const immutable = ['retention', 'storage'] as const;
const mutable = [
  'subjects',
  'description',
  'max_age',
  'duplicate_window',
  'num_replicas',
  'discard',
  'allow_direct',
] as const;

/** The streams design.md describes, for one stream prefix. */
export function desiredStreams(streams: FuzeConfig['streams']): DesiredStream[] {
  const names = streamNames(streams.prefix);
  const root = subjectRoot(streams.prefix);
  const common = {
    storage: StorageType.File,
    num_replicas: streams.replicas,
    duplicate_window: nanos(streams.dedupeWindowMs),
    discard: DiscardPolicy.Old,
    allow_direct: true,
  };
  return [
    {
      ...common,
      name: names.events,
      description: 'Fuze: every accepted CloudEvent; also the archive time-window replay reads',
      subjects: [`${root}.events.>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(streams.eventsMaxAgeMs),
    },
    {
      ...common,
      name: names.delivery,
      description: 'Fuze: matched events waiting for their target, one subject per target partition',
      subjects: [`${root}.deliver.>`],
      retention: RetentionPolicy.Workqueue,
      max_age: 0,
    },
    {
      ...common,
      name: names.dlq,
      description: 'Fuze: dead-letter records, indexed in Postgres',
      subjects: [`${root}.dlq.>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(streams.dlqMaxAgeMs),
    },
    {
      ...common,
      name: names.delayed,
      description: 'Fuze: events held for delayed delivery until the scheduler stores them as timers',
      subjects: [`${root}.delayed.>`],
      retention: RetentionPolicy.Workqueue,
      max_age: 0,
    },
  ];
}

/**
 * Creates the streams and KV buckets that are missing and updates settings JetStream lets us change.
 * Never deletes or purges. A setting that cannot change in place (retention, storage) fails
 * start-up with the stream, the setting and what to do, rather than running on wrong semantics.
 */
export async function ensureTopology(
  jsm: JetStreamManager,
  streams: FuzeConfig['streams'],
  logger: Logger,
): Promise<StreamNames> {
  for (const desired of desiredStreams(streams)) {
    let current: StreamConfig;
    try {
      current = (await jsm.streams.info(desired.name)).config;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add(desired);
      logger.info({ stream: desired.name }, 'created stream');
      continue;
    }
    for (const key of immutable) {
      if (current[key] !== desired[key]) {
        throw new FuzeError(
          'FUZE_TOPOLOGY_CONFLICT',
          `stream ${desired.name} has ${key}=${current[key]} but Fuze needs ${key}=${desired[key]}; ` +
            'JetStream cannot change this in place. Move the data to a new stream (see docs/operations.md, ' +
            '"Changing stream settings") or use another FUZE_STREAM_PREFIX.',
          { details: { stream: desired.name, setting: key, current: current[key], desired: desired[key] } },
        );
      }
    }
    const changed = mutable.filter((key) => JSON.stringify(current[key]) !== JSON.stringify(desired[key]));
    if (changed.length === 0) continue;
    await jsm.streams.update(desired.name, { ...current, ...pick(desired, changed) });
    logger.warn(
      {
        stream: desired.name,
        changes: Object.fromEntries(changed.map((k) => [k, { from: current[k], to: desired[k] }])),
      },
      'updated stream settings to match the configuration',
    );
  }
  await ensureBuckets(jsm, streams, logger);
  const routing = await new Kvm(jsm.jetstream()).open(bucketNames(streams.prefix).routing);
  await recordRoutingShards(routing, streams.prefix, streams.routingShards);
  return streamNames(streams.prefix);
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Pick<T, K>;
}
