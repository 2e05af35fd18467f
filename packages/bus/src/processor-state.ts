import { FuzeError } from '@fuze/core';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { bucketNames } from './kv-buckets.js';
import type { JetStreamPublisher } from './publisher.js';

/**
 * Where a stateful processor keeps each partition key's state (ADR 0008): one KV bucket per
 * processor, `<P>_STATE_<processor>`, key `<partition>.<base64url of the partition key>`, value
 * the state and the delivery it reflects. The processor, `fuze state` and the admin API all read
 * and write it through this file.
 */
export function stateBucketName(prefix: string, processor: string): string {
  // Bucket names allow letters, digits, _ and -; a target name is lowercase letters, digits and -.
  return `${prefix}_STATE_${processor}`;
}

/** The largest state a key may hold, as JSON: a restore reads every state, and a NATS message has a ceiling. */
export const maxStateBytes = 256 * 1024;

export function stateKey(partition: number, key: string): string {
  return `${partition}.${subjectSafe(key)}`;
}

/** The bucket keys of `key` in any partition (a KV key filter): the partition count may have changed. */
export function stateKeyInAnyPartition(key: string): string {
  return `*.${subjectSafe(key)}`;
}

function subjectSafe(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** The partition and partition key a bucket key names; undefined for a key Fuze did not write. */
export function parseStateKey(bucketKey: string): { partition: number; key: string } | undefined {
  const dot = bucketKey.indexOf('.');
  const partition = Number(bucketKey.slice(0, dot));
  if (dot < 1 || !Number.isInteger(partition)) return undefined;
  return { partition, key: Buffer.from(bucketKey.slice(dot + 1), 'base64url').toString('utf8') };
}

/**
 * A stored value: `seq` is the delivery stream sequence of the last event applied to the key
 * (what recognises a redelivery), `state` its JSON text, absent once the state was deleted by a
 * handler (the key keeps its `seq`, so the deleting event is not applied twice either).
 */
export interface StoredState {
  seq: number;
  state: string | undefined;
  /** The key's timers: name → due time (epoch ms); absent when it has none. */
  timers?: Readonly<Record<string, number>>;
}

export function encodeStoredState(value: StoredState): string {
  const timers =
    value.timers && Object.keys(value.timers).length > 0 ? `,"timers":${JSON.stringify(value.timers)}` : '';
  const state = value.state === undefined ? '' : `,"state":${value.state}`;
  return `{"seq":${value.seq}${timers}${state}}`;
}

/**
 * Reads a stored value, keeping the state as text (parsed only when a handler asks for it). A
 * value in the exact shape encodeStoredState writes is sliced, not parsed: a restore reads every
 * key of a partition, and parsing then re-serialising each state was a third of a restore's time
 * (100,000 keys of 200 bytes: 3.7 s against 2.7 s). Any other shape (a key with timers, too) is
 * parsed.
 */
export function decodeStoredState(text: string): StoredState {
  const sliced = sliceStoredState(text);
  if (sliced) return sliced;
  const parsed = JSON.parse(text) as { seq?: unknown; state?: unknown; timers?: unknown };
  if (typeof parsed.seq !== 'number') throw new Error('a stored state has no seq');
  const state = parsed.state === undefined ? undefined : JSON.stringify(parsed.state);
  const timers = timersOf(parsed.timers);
  return timers ? { seq: parsed.seq, state, timers } : { seq: parsed.seq, state };
}

function timersOf(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const timers = Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
  return Object.keys(timers).length > 0 ? timers : undefined;
}

const seqPrefix = '{"seq":';
const statePrefix = ',"state":';

function sliceStoredState(text: string): StoredState | undefined {
  if (!text.startsWith(seqPrefix) || text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  let end = seqPrefix.length;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end += 1;
  if (end === seqPrefix.length || end - seqPrefix.length > 15) return undefined;
  const seq = Number(text.slice(seqPrefix.length, end));
  if (end === text.length - 1) return { seq, state: undefined };
  if (!text.startsWith(statePrefix, end)) return undefined;
  return { seq, state: text.slice(end + statePrefix.length, -1) };
}
/**
 * Opens (or creates) a processor's state bucket. It takes the replicas of the lease bucket that
 * `fuze serve` provisioned with FUZE_STREAM_REPLICAS, so state is replicated like the rest of
 * Fuze's shared state; one replica when no server provisioned anything yet.
 */
export async function openStateBucket(nc: NatsConnection, prefix: string, processor: string): Promise<KV> {
  const replicas = await leaseBucketReplicas(nc, prefix);
  return new Kvm(nc).create(stateBucketName(prefix, processor), {
    history: 1,
    replicas,
    description: `Fuze: per-key state of the processor ${processor} (ADR 0008)`,
  });
}

/** Binds to an existing state bucket (operators' reads): FUZE_NOT_FOUND when no processor ran. */
export async function bindStateBucket(nc: NatsConnection, prefix: string, processor: string): Promise<KV> {
  const name = stateBucketName(prefix, processor);
  try {
    await (await jetstreamManager(nc)).streams.info(`KV_${name}`);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    throw new FuzeError(
      'FUZE_NOT_FOUND',
      `no state is kept for processor "${processor}": no processor of that target ran against this NATS with prefix ${prefix}`,
    );
  }
  return new Kvm(nc).open(name);
}

async function leaseBucketReplicas(nc: NatsConnection, prefix: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  try {
    return (await jsm.streams.info(`KV_${bucketNames(prefix).leases}`)).config.num_replicas;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return 1;
    throw err;
  }
}

const utf8 = new TextEncoder();

/**
 * Writes a key's value if its last revision is still `expected` (0: never written), as
 * `kv.put(key, value, { previousSeq: expected })` does, and returns the new revision; a lost
 * compare-and-swap rejects with an error isWrongLastSequence accepts. Sent through the
 * pipelined publisher: one request per commit (kv.put) cost about 0.1 ms more CPU per event
 * (ADR 0005). The message id (key, expected revision, and `writeId`: what is written, e.g. the
 * event applied) makes a re-send after a lost ack answer with the stored revision; a different
 * write from the same revision is not taken for it.
 */
export async function putStateIfRevision(
  publisher: JetStreamPublisher,
  bucket: string,
  bucketKey: string,
  value: string,
  expected: number,
  writeId: string,
): Promise<number> {
  const ack = await publisher.publish({
    subject: `$KV.${bucket}.${bucketKey}`,
    payload: utf8.encode(value),
    msgId: `${bucketKey}@${expected}@${writeId}`,
    headers: { 'Nats-Expected-Last-Subject-Sequence': String(expected) },
  });
  return ack.seq;
}

/** A key's state as a processor holds it: what is stored, and the revision to compare-and-swap against. */
export interface HeldState extends StoredState {
  revision: number;
}

/**
 * Reads the latest value of every key of `partitions`, up to the bucket's end when the read
 * started: ordered consumers, last value per subject. (A KV watch cannot tell an empty partition
 * from one whose values have not arrived yet; a consumer's pending count can.)
 *
 * Few partitions are read one consumer each; a quarter of them or more, by one consumer over the
 * whole bucket that skips the rest. On NATS 2.9 a consumer filtered to `<partition>.>` costs the
 * server a pass over every key of the bucket: 16 of them read 100,000 keys in 2.2-2.8 s (2.0-2.3 s
 * of server CPU), one over the bucket in 0.8-0.9 s (0.6-0.7 s).
 */
export async function readPartitionStates(
  js: JetStreamClient,
  bucket: string,
  partitions: readonly number[],
  partitionCount: number,
): Promise<Map<number, Map<string, HeldState>>> {
  const byPartition = new Map<number, Map<string, HeldState>>(partitions.map((p) => [p, new Map()]));
  const prefix = `$KV.${bucket}.`;
  const filters =
    partitions.length * 4 >= partitionCount ? [`${prefix}>`] : partitions.map((p) => `${prefix}${p}.>`);
  await Promise.all(
    filters.map((filter) =>
      readLatest(js, bucket, filter, (msg) => {
        const parsed = parseStateKey(msg.subject.slice(prefix.length));
        const states = parsed && byPartition.get(parsed.partition);
        if (!parsed || !states) return;
        const operation = msg.headers?.get('KV-Operation');
        if (operation === 'DEL' || operation === 'PURGE') {
          states.set(parsed.key, { seq: 0, state: undefined, revision: msg.seq });
          return;
        }
        const stored = decodeStoredState(msg.string());
        states.set(
          parsed.key,
          stored.timers
            ? { seq: stored.seq, state: stored.state, timers: stored.timers, revision: msg.seq }
            : { seq: stored.seq, state: stored.state, revision: msg.seq },
        );
      }),
    ),
  );
  return byPartition;
}

async function readLatest(
  js: JetStreamClient,
  bucket: string,
  filter: string,
  each: (msg: JsMsg) => void,
): Promise<void> {
  const consumer = await js.consumers.getPushConsumer(`KV_${bucket}`, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  try {
    if ((await consumer.info(true)).num_pending === 0) return;
    let failure: unknown;
    const messages = await consumer.consume({
      callback: (msg) => {
        try {
          each(msg);
        } catch (err) {
          failure ??= err;
        }
        if (msg.info.pending === 0) messages.stop();
      },
    });
    await messages.closed();
    if (failure) throw failure;
  } finally {
    await consumer.delete().catch(() => {});
  }
}
