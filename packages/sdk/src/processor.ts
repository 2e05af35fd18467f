import { type HeldState, type LeaseFence, openStateBucket, stateBucketName } from '@fuze/bus';
import { type CloudEventRecord, FuzeError, isFuzeError, type Logger } from '@fuze/core';
import { type Delivery, DeliveryAbortedError, NonRetryableError } from '@fuze/delivery';
import { jetstream } from '@nats-io/jetstream';
import {
  type ConsumerOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './consumer-options.js';
import { type DeliveryContext, deliveredEvent, deliveryContext, inDeliverySpan } from './delivery-context.js';
import { KeyLocks } from './key-locks.js';
import { KeyState, type KeyStateAccess, noKeyState } from './key-state.js';
import { type FiredTimer, KeyTimerFiring, type TimerRun } from './key-timer-firing.js';
import { KeyTimers, type KeyTimersAccess, noKeyTimers } from './key-timers.js';
import { type CommitResult, KeyedStates, type PartitionStates } from './keyed-states.js';
import { observeProcessor } from './processor-metrics.js';
import { TargetWorker } from './target-worker.js';

export type { KeyStateAccess } from './key-state.js';
export type { FiredTimer } from './key-timer-firing.js';
export type { KeyTimersAccess, KeyTimerTiming } from './key-timers.js';

/** What a processor's handler knows besides the event: the delivery, and the key's state. */
export interface ProcessorContext<S> extends DeliveryContext {
  /** The event's partition key; undefined for an event without one (then `state` throws). */
  key: string | undefined;
  /** The state of `key`, held in this process while it owns the key's partition. */
  state: KeyStateAccess<S>;
  /** The timers of `key`: set, moved and deleted with the state, fired back into this key. */
  timers: KeyTimersAccess;
  /**
   * Set when the handler runs for one of the key's timers rather than for an event: the event is
   * then a `fuze.processor.timer` event whose data names the timer.
   */
  timer: FiredTimer | undefined;
}

/**
 * Handles one event of a processor. As for a consumer: resolve = done, throw = retried then
 * dead-lettered. A state `set` or `delete` is stored when the handler resolves, before the ack;
 * a handler that throws changes nothing.
 */
export type ProcessorHandler<S, T = unknown> = (
  event: CloudEventRecord & { data?: T },
  context: ProcessorContext<S>,
) => void | Promise<void>;

export interface ProcessorOptions extends ConsumerOptions {
  /**
   * Called when this process gains a partition, after its keys' state is restored and before
   * any of its events is handled. An error is logged; the partition is consumed anyway.
   */
  onAssigned?: (partition: number) => void | Promise<void>;
  /** Called when this process lost a partition, once its handlers finished and its state was dropped. */
  onRevoked?: (partition: number) => void | Promise<void>;
  /**
   * The most keys this process holds state for. An event that would add a key beyond it is
   * dead-lettered with FUZE_STATE_TOO_LARGE; keys restored with a gained partition are never
   * refused, and new keys committed at the same moment may pass it by the handlers running at
   * once. Default 1,000,000 (about 0.4 GB of heap at 200 bytes per state).
   */
  maxKeys?: number;
}

/** What a processor holds and has done, for health checks (also exported as OpenTelemetry metrics). */
export interface ProcessorStats {
  partitions: number[];
  keys: number;
  /** Bytes of JSON of the states held. */
  stateBytes: number;
  /** Milliseconds the last partition restore took, and the keys it read. */
  lastRestoreMs: number;
  lastRestoreKeys: number;
  commits: number;
  /** Mean milliseconds from sending a state commit to its confirmation. */
  meanCommitMs: number;
  /** Commits refused because another owner had committed the key since (then retried). */
  conflicts: number;
}

export interface Processor<S> {
  /** Starts handling the target's events; resolves once joined (connected, leases running). Call once. */
  handle<T = unknown>(handler: ProcessorHandler<S, T>): Promise<Processor<S>>;
  stats(): ProcessorStats;
  /** Stops taking events, lets running handlers finish and commit, gives the partitions back. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A stateful processor of a `consumer` target: a consumer whose handler keeps per-key state.
 * Each event's partition key has a state held in this process while it owns the key's partition,
 * committed to NATS with the event (before its ack) and restored by whichever process gains the
 * partition next, so every event changes its key's state exactly once across crashes,
 * redeliveries and rebalances (see docs/processors.md).
 *
 * ```ts
 * const processor = await createProcessor<number[]>({ target: 'averages', natsUrl }).handle(
 *   async (event, ctx) => {
 *     const window = [...(ctx.state.get() ?? []), event.data.price].slice(-10);
 *     ctx.state.set(window);
 *   },
 * );
 * ```
 */
export function createProcessor<S = unknown>(options: ProcessorOptions): Processor<S> {
  const maxKeys = options.maxKeys ?? 1_000_000;
  const problems =
    Number.isInteger(maxKeys) && maxKeys >= 1
      ? []
      : [`maxKeys=${options.maxKeys} is invalid: a positive integer`];
  let resolved: ResolvedConsumerOptions;
  try {
    resolved = resolveConsumerOptions(options);
  } catch (err) {
    if (isFuzeError(err, 'FUZE_CONFIG_INVALID'))
      problems.unshift(...((err.details.problems as string[]) ?? []));
    else throw err;
  }
  if (problems.length > 0)
    throw new FuzeError('FUZE_CONFIG_INVALID', `invalid processor options: ${problems.join('; ')}`, {
      details: { problems },
    });
  return new KeyedProcessor<S>(resolved!, { ...options, maxKeys });
}

class KeyedProcessor<S> implements Processor<S> {
  private worker: Promise<TargetWorker> | undefined;
  private joined: TargetWorker | undefined;
  private states: KeyedStates | undefined;
  private stopObserving: (() => void) | undefined;
  private firing: KeyTimerFiring | undefined;
  private readonly locks = new KeyLocks();

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly hooks: Pick<ProcessorOptions, 'onAssigned' | 'onRevoked'> & { maxKeys: number },
  ) {}

  async handle<T>(handler: ProcessorHandler<S, T>): Promise<Processor<S>> {
    if (this.worker)
      throw new FuzeError('FUZE_CONFIG_INVALID', 'handle() was already called on this processor');
    const { options, hooks } = this;
    this.worker = TargetWorker.join(
      options,
      async ({ nc, logger, partitions: partitionCount, publisher }) => {
        const kv = await openStateBucket(nc, options.streamPrefix, options.target);
        const states = new KeyedStates({
          kv,
          publisher,
          js: jetstream(nc),
          bucket: stateBucketName(options.streamPrefix, options.target),
          partitionCount,
          logger,
        });
        this.states = states;
        const firing = new KeyTimerFiring({
          target: options.target,
          states,
          locks: this.locks,
          logger,
          fire: (fired) => this.fireTimer(states, handler, fired, logger),
        });
        this.firing = firing;
        const assigned = new Set<number>();
        const runHook = async (name: 'onAssigned' | 'onRevoked', partition: number) => {
          try {
            await hooks[name]?.(partition);
          } catch (err) {
            logger.error({ err, partition }, `the processor's ${name} hook failed`);
          }
        };
        return {
          handler: (delivery) => this.process(states, handler, delivery),
          lifecycle: {
            assigned: async (partition, fence, signal) => {
              await states.restore(partition, signal);
              firing.assigned(partition, fence);
              assigned.add(partition);
              await runHook('onAssigned', partition);
            },
            revoked: async (partition) => {
              firing.revoked(partition);
              states.drop(partition);
              // Lost before its restore finished: it was never assigned to the application.
              if (assigned.delete(partition)) await runHook('onRevoked', partition);
            },
          },
        };
      },
    );
    this.joined = await this.worker;
    this.stopObserving = observeProcessor(options.target, () => this.stats());
    return this;
  }

  stats(): ProcessorStats {
    const figures = this.states?.figures;
    const held = this.states?.held() ?? { keys: 0, bytes: 0 };
    return {
      partitions: this.joined?.ownedPartitions() ?? [],
      keys: held.keys,
      stateBytes: held.bytes,
      lastRestoreMs: figures?.lastRestoreMs ?? 0,
      lastRestoreKeys: figures?.restoredKeys ?? 0,
      commits: figures?.commits ?? 0,
      meanCommitMs: figures && figures.commits > 0 ? figures.commitMs / figures.commits : 0,
      conflicts: figures?.conflicts ?? 0,
    };
  }

  async close(): Promise<void> {
    this.stopObserving?.();
    const worker = await this.worker?.catch(() => undefined);
    // Timer firings first: a running one commits through the worker's publisher.
    await this.firing?.stop();
    await worker?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async process<T>(states: KeyedStates, handler: ProcessorHandler<S, T>, delivery: Delivery) {
    const event = deliveredEvent<T>(delivery);
    const key = delivery.envelope.partitionKey;
    const { partition } = delivery;
    const context = { ...deliveryContext(delivery), key, timer: undefined };
    if (partition === 'unordered' || key === undefined) {
      await inDeliverySpan(delivery, () =>
        handler(event, { ...context, state: noKeyState, timers: noKeyTimers }),
      ).catch(stateErrorsFinal);
      return;
    }
    await this.locks.run(partition, key, async () => {
      const held = states.of(partition);
      if (!held)
        throw new DeliveryAbortedError("not handled: this process no longer holds the partition's state");
      const committed = held.get(key);
      // Applied before (committed, then the ack was lost to a crash or a hand-over): ack only.
      if (committed && committed.seq >= delivery.streamSeq) return;
      await this.apply(
        states,
        held,
        partition,
        key,
        committed,
        delivery.streamSeq,
        delivery.fence,
        undefined,
        (state, timers) => inDeliverySpan(delivery, () => handler(event, { ...context, state, timers })),
      ).catch(stateErrorsFinal);
    });
  }

  /** The handler for a due timer of a key (called under the key's lock); false = try again later. */
  private async fireTimer<T>(
    states: KeyedStates,
    handler: ProcessorHandler<S, T>,
    fired: TimerRun,
    logger: Logger,
  ): Promise<boolean> {
    const { partition, key, held, fence, event, timer } = fired;
    const partitionStates = states.of(partition);
    if (!partitionStates) return true;
    const context = {
      attempt: fired.attempt,
      partitionKey: key,
      bus: '',
      rule: '',
      signal: fired.signal,
      replay: undefined,
      key,
      timer,
    };
    try {
      const result = await this.apply(
        states,
        partitionStates,
        partition,
        key,
        held,
        held.seq,
        fence,
        timer.name,
        async (state, timers) =>
          handler(event as CloudEventRecord & { data?: T }, { ...context, state, timers }),
      );
      // Refused (another owner committed the key since): look again at what is stored.
      return result !== 'applied';
    } catch (err) {
      logger.error(
        { err, key, timer: timer.name, attempt: fired.attempt },
        "a key timer's firing failed (its handler threw, or its commit was refused); retrying",
      );
      return false;
    }
  }

  /**
   * Runs `call` on a key's committed state and timers (without `firedTimer`, which this run
   * consumes), then commits what it changed, fenced and by compare-and-swap, and schedules the
   * key's timers as committed.
   */
  private async apply(
    states: KeyedStates,
    held: PartitionStates,
    partition: number,
    key: string,
    committed: HeldState | undefined,
    seq: number,
    fence: LeaseFence,
    firedTimer: string | undefined,
    call: (state: KeyState<S>, timers: KeyTimers) => Promise<void>,
  ): Promise<CommitResult | 'unchanged'> {
    const state = new KeyState<S>(key, committed?.state);
    const timers = new KeyTimers(key, committed?.timers);
    if (firedTimer !== undefined) timers.delete(firedTimer);
    await call(state, timers);
    if (!state.change && !timers.changed) return 'unchanged';
    const { maxKeys } = this.hooks;
    if (!committed && states.keyCount() >= maxKeys)
      throw new FuzeError(
        'FUZE_STATE_TOO_LARGE',
        `key "${key}" would be one key too many: this process holds ${states.keyCount()} keys, its maxKeys is ${maxKeys}: raise maxKeys (memory allowing) or run more processes`,
        { details: { key, keys: states.keyCount(), limit: maxKeys } },
      );
    if (!fence.maySettle())
      throw new DeliveryAbortedError(
        "state not committed: this process can no longer confirm the partition's lease; its next owner applies the event",
      );
    const text = state.change ? state.change.text : committed?.state;
    const result = await states.commit(partition, held, key, {
      seq,
      state: text,
      timers: timers.stored(),
      // Two writes of one event (or one firing) from one revision are one application of it.
      writeId:
        firedTimer === undefined ? `seq-${seq}` : `timer-${firedTimer}@${committed?.timers?.[firedTimer]}`,
    });
    if (result === 'committed') this.firing?.scheduleKey(partition, key, timers.stored());
    return result;
  }
}

/** A state (or timer) that cannot be kept will not become keepable on a retry: dead-letter at once. */
function stateErrorsFinal(err: unknown): never {
  if (isFuzeError(err) && (err.code === 'FUZE_STATE_TOO_LARGE' || err.code === 'FUZE_STATE_INVALID'))
    throw new NonRetryableError(err.message, { cause: err });
  throw err;
}
