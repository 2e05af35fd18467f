import {
  decodeStoredState,
  encodeStoredState,
  type HeldState,
  isWrongLastSequence,
  type JetStreamPublisher,
  putStateIfRevision,
  readPartitionStates,
  stateKey,
} from '@fuze/bus';
import { type Logger, retryDelayMs } from '@fuze/core';

import { DeliveryAbortedError } from '@fuze/delivery';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';

/** Partitions gained within this long of each other are restored by one read. */
const restoreBatchMs = 20;

interface WaitingRestore {
  signal: AbortSignal;
  resolve(): void;
  reject(err: Error): void;
}

/** A partition's states while this process owns it: partition key → what is stored. */
export type PartitionStates = Map<string, HeldState>;

/** What a commit found: `committed`, or `applied` (the store already reflects this event). */
export type CommitResult = 'committed' | 'applied';

/** Raised when another owner committed the key since this process read it: retried on the stored state. */
export class StateConflictError extends Error {
  constructor(key: string) {
    super(
      `the state of key "${key}" was committed by another owner since it was read here; retrying on the stored state`,
    );
    this.name = 'StateConflictError';
  }
}

export interface KeyedStatesOptions {
  kv: KV;
  /** Commits go through it (one per event that changes a state). */
  publisher: JetStreamPublisher;
  js: JetStreamClient;
  bucket: string;
  /** The target's partition count: how many partitions a restore reads decides how it reads them. */
  partitionCount: number;
  logger: Logger;
}

/**
 * The states of the partitions this process owns (ADR 0008): restored from the processor's KV
 * bucket when a partition is gained, dropped when it is lost, committed by compare-and-swap on
 * the revision last seen here, so a commit from an owner that lost the key meanwhile fails.
 */
export class KeyedStates {
  private readonly partitions = new Map<number, PartitionStates>();
  private batch: Map<number, WaitingRestore> | undefined;
  /** Figures for metrics: the last restore, and commits. */
  readonly figures = { lastRestoreMs: 0, restoredKeys: 0, commits: 0, commitMs: 0, conflicts: 0 };

  constructor(private readonly options: KeyedStatesOptions) {}

  /** The states of `partition`, or undefined when this process does not hold it (not restored, or lost). */
  of(partition: number): PartitionStates | undefined {
    return this.partitions.get(partition);
  }

  /** Keys held and the bytes of their states. */
  held(): { keys: number; bytes: number } {
    let keys = 0;
    let bytes = 0;
    for (const states of this.partitions.values())
      for (const held of states.values()) {
        keys += 1;
        bytes += held.state?.length ?? 0;
      }
    return { keys, bytes };
  }

  /**
   * Reads every key of `partition` before it is consumed, retrying while NATS does not answer,
   * until done or `signal` aborts (the partition was lost meanwhile). Partitions gained together
   * (within `restoreBatchMs`) are read together: see readPartitionStates.
   */
  restore(partition: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.batch) {
        const batch = new Map<number, WaitingRestore>();
        this.batch = batch;
        setTimeout(() => {
          this.batch = undefined;
          void this.restoreBatch(batch);
        }, restoreBatchMs);
      }
      // Lost and gained again before the batch ran: the earlier wait ends here.
      this.batch.get(partition)?.reject(new DeliveryAbortedError('the partition was gained again'));
      this.batch.set(partition, { signal, resolve, reject });
    });
  }

  private async restoreBatch(waiting: Map<number, WaitingRestore>): Promise<void> {
    const { js, bucket, logger, partitionCount } = this.options;
    const startedAt = performance.now();
    for (let failures = 0; ; ) {
      for (const [partition, { signal, reject }] of waiting)
        if (signal.aborted) {
          waiting.delete(partition);
          reject(lostWhileRestoring());
        }
      if (waiting.size === 0) return;
      try {
        const read = await readPartitionStates(js, bucket, [...waiting.keys()], partitionCount);
        let keys = 0;
        for (const [partition, { signal, resolve, reject }] of waiting) {
          if (signal.aborted) {
            reject(lostWhileRestoring());
            continue;
          }
          const states = read.get(partition) ?? new Map();
          keys += states.size;
          this.partitions.set(partition, states);
          resolve();
        }
        this.figures.lastRestoreMs = performance.now() - startedAt;
        this.figures.restoredKeys = keys;
        logger.debug(
          { partitions: [...waiting.keys()], keys, ms: this.figures.lastRestoreMs },
          'restored partition state',
        );
        return;
      } catch (err) {
        failures += 1;
        const delay = retryDelayMs(failures, 250, 5_000);
        logger.warn({ err, retryInMs: delay }, 'cannot restore the partition state; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /** Keys held now, over every partition (a sum of map sizes: cheap enough for each new key). */
  keyCount(): number {
    let keys = 0;
    for (const states of this.partitions.values()) keys += states.size;
    return keys;
  }

  drop(partition: number): void {
    this.partitions.delete(partition);
  }

  /**
   * Stores `state` (JSON text; undefined = deleted) and `timers` as key's value after the event at
   * `seq`, by compare-and-swap on the revision held in `states`. `writeId` names what is written
   * (the event, or the timer firing): the same write sent again from the same revision is one
   * write. On a conflict, reads the key: if it already reflects `seq` (an earlier owner committed
   * this event, then lost the partition before its ack), the result is `applied`; else the read
   * value is held and StateConflictError thrown.
   */
  async commit(
    partition: number,
    states: PartitionStates,
    key: string,
    change: {
      seq: number;
      state: string | undefined;
      timers?: Readonly<Record<string, number>>;
      writeId: string;
    },
  ): Promise<CommitResult> {
    const { seq, state, timers, writeId } = change;
    const { kv, publisher, bucket } = this.options;
    const bucketKey = stateKey(partition, key);
    const held = states.get(key);
    const startedAt = performance.now();
    try {
      const revision = await putStateIfRevision(
        publisher,
        bucket,
        bucketKey,
        encodeStoredState(timers ? { seq, state, timers } : { seq, state }),
        held?.revision ?? 0,
        writeId,
      );
      this.figures.commits += 1;
      this.figures.commitMs += performance.now() - startedAt;
      if (this.partitions.get(partition) === states)
        states.set(key, timers ? { seq, state, timers, revision } : { seq, state, revision });
      return 'committed';
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    this.figures.conflicts += 1;
    const entry = await kv.get(bucketKey);
    const stored: HeldState =
      entry && entry.operation === 'PUT'
        ? { ...decodeStoredState(entry.string()), revision: entry.revision }
        : { seq: 0, state: undefined, revision: entry?.revision ?? 0 };
    if (this.partitions.get(partition) === states) states.set(key, stored);
    if (stored.seq >= seq) return 'applied';
    throw new StateConflictError(key);
  }
}

function lostWhileRestoring(): DeliveryAbortedError {
  return new DeliveryAbortedError('the partition was lost while its state was restored');
}
