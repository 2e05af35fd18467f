import type { HeldState, LeaseFence } from '@fuze/bus';
import { type CloudEventRecord, type Logger, retryDelayMs } from '@fuze/core';
import type { KeyLocks } from './key-locks.js';
import type { KeyedStates } from './keyed-states.js';
import { type DueTimer, TimerSchedule, timerId } from './timer-schedule.js';

/** What `ctx.timer` says when the handler runs for a key's timer. */
export interface FiredTimer {
  name: string;
  /** When it was due (it runs at or after this). */
  dueAt: Date;
}

/** A due timer of a key, to run the handler for (under the key's lock). */
export interface TimerRun {
  partition: number;
  key: string;
  /** The key's committed value, which still holds the timer. */
  held: HeldState;
  fence: LeaseFence;
  event: CloudEventRecord;
  timer: FiredTimer;
  attempt: number;
  signal: AbortSignal;
}

/** Runs the handler for a due timer and commits; resolves false when it must be tried again. */
export type FireTimer = (run: TimerRun) => Promise<boolean>;

/** The event a processor's handler receives for a key's timer (`ctx.timer` names it). */
export function timerEvent(target: string, key: string, timer: FiredTimer): CloudEventRecord {
  const dueAt = timer.dueAt.toISOString();
  return {
    specversion: '1.0',
    id: `${target}/${key}/${timer.name}/${timer.dueAt.getTime()}`,
    source: `/fuze/processors/${target}`,
    type: 'fuze.processor.timer',
    time: dueAt,
    subject: timer.name,
    partitionkey: key,
    datacontenttype: 'application/json',
    data: { timer: timer.name, key, dueAt },
  };
}

/**
 * Fires the timers of the keys this process holds (timers live on the key's stored value, so
 * they move with it): each when due, under the key's lock so it never overlaps an event of the
 * key, only while the partition's lease allows. A failed firing is tried again with backoff (up
 * to a minute) while the timer is still set; a firing that reached its commit removed the timer
 * with it, so a timer fires its committed effect once.
 */
export class KeyTimerFiring {
  private readonly schedule: TimerSchedule;
  private readonly fences = new Map<number, LeaseFence>();
  private readonly failures = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly options: {
      target: string;
      states: KeyedStates;
      locks: KeyLocks;
      fire: FireTimer;
      logger: Logger;
    },
  ) {
    this.schedule = new TimerSchedule((due) => this.start(due));
  }

  /** A partition was restored here: schedule its keys' timers. */
  assigned(partition: number, fence: LeaseFence): void {
    this.fences.set(partition, fence);
    for (const [key, held] of this.options.states.of(partition) ?? [])
      this.scheduleKey(partition, key, held.timers);
  }

  revoked(partition: number): void {
    this.fences.delete(partition);
  }

  /** Schedules what a commit left on a key. */
  scheduleKey(partition: number, key: string, timers: Readonly<Record<string, number>> | undefined): void {
    for (const [name, at] of Object.entries(timers ?? {})) this.schedule.add({ at, partition, key, name });
  }

  async stop(): Promise<void> {
    this.schedule.stop();
    this.closing.abort();
    await Promise.all(this.running);
  }

  private start(due: DueTimer): void {
    const work = this.run(due).catch((err: unknown) =>
      this.options.logger.error({ err, key: due.key, timer: due.name }, 'a key timer firing failed'),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async run(due: DueTimer): Promise<void> {
    const { partition, key, name } = due;
    const id = timerId(due);
    const settled = await this.options.locks.run(partition, key, async () => {
      const fence = this.fences.get(partition);
      const held = this.options.states.of(partition)?.get(key);
      const dueAt = held?.timers?.[name];
      // Deleted, already fired, or the partition left: nothing to do here (the partition's next
      // owner fires what is left).
      if (!fence || !held || dueAt === undefined || !fence.mayStart()) return true;
      if (dueAt > Date.now()) {
        this.schedule.add({ ...due, at: dueAt }); // moved later since this entry was made
        return true;
      }
      const timer = { name, dueAt: new Date(dueAt) };
      return this.options.fire({
        partition,
        key,
        held,
        fence,
        event: timerEvent(this.options.target, key, timer),
        timer,
        attempt: (this.failures.get(id) ?? 0) + 1,
        signal: this.closing.signal,
      });
    });
    if (settled) {
      this.failures.delete(id);
      return;
    }
    const failures = (this.failures.get(id) ?? 0) + 1;
    this.failures.set(id, failures);
    this.schedule.add({ ...due, at: Date.now() + retryDelayMs(failures, 250, 60_000) });
  }
}
