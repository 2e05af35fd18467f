import { FuzeError, parseDuration, parseInstant } from '@fuze/core';
import { noPartitionKey } from './key-state.js';

/** When a key's timer fires: at a time, or after a delay from now. */
export type KeyTimerTiming = { at: string | Date | number } | { delay: string | number };

/** The timers of the event's partition key, as a processor's handler sees them (`ctx.timers`). */
export interface KeyTimersAccess {
  /**
   * Sets (or moves) the timer `name` of this key. When due, the handler is called for the key with
   * a timer event (`ctx.timer` names it), under the same state and ordering rules as an event.
   * Kept if and only if this event's changes are committed.
   */
  set(name: string, timing: KeyTimerTiming): void;
  /** Cancels the timer `name` of this key, if it is set. */
  delete(name: string): void;
  /** The key's timers: name → due time (epoch ms), as this attempt left them. */
  list(): Readonly<Record<string, number>>;
}

const namePattern = /^[A-Za-z0-9_.:@-]{1,64}$/;
/** A key's timers are part of its stored value: a handful, not a schedule. */
export const maxTimersPerKey = 64;

/** One attempt's view of a key's timers: changes are committed with the state. */
export class KeyTimers implements KeyTimersAccess {
  changed = false;
  private timers: Record<string, number>;

  constructor(
    private readonly key: string,
    committed: Readonly<Record<string, number>> | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.timers = { ...committed };
  }

  set(name: string, timing: KeyTimerTiming): void {
    if (!namePattern.test(name))
      throw invalid(this.key, `timer name "${name}" is invalid: 1-64 letters, digits and _ . : @ -`);
    const due = dueTime(this.key, name, timing, this.now());
    if (!(name in this.timers) && Object.keys(this.timers).length >= maxTimersPerKey)
      throw invalid(
        this.key,
        `a key holds at most ${maxTimersPerKey} timers: delete one before setting "${name}"`,
      );
    this.timers = { ...this.timers, [name]: due };
    this.changed = true;
  }

  delete(name: string): void {
    if (!(name in this.timers)) return;
    const { [name]: _removed, ...rest } = this.timers;
    this.timers = rest;
    this.changed = true;
  }

  list(): Readonly<Record<string, number>> {
    return this.timers;
  }

  /** What to store: undefined when the key has no timer left. */
  stored(): Record<string, number> | undefined {
    return Object.keys(this.timers).length > 0 ? this.timers : undefined;
  }
}

/** `ctx.timers` for an event without a partition key: no key, no timers. */
export const noKeyTimers: KeyTimersAccess = {
  set: () => {
    throw noPartitionKey('timers');
  },
  delete: () => {
    throw noPartitionKey('timers');
  },
  list: () => ({}),
};

function dueTime(key: string, name: string, timing: KeyTimerTiming, now: number): number {
  if ('delay' in timing && timing.delay !== undefined) {
    let ms: number;
    try {
      ms = typeof timing.delay === 'number' ? timing.delay : parseDuration(timing.delay);
    } catch {
      throw invalid(key, `timer "${name}": delay "${timing.delay}" is not a duration (e.g. 30s, 5m, 1h30m)`);
    }
    if (!Number.isFinite(ms) || ms < 0) throw invalid(key, `timer "${name}": delay must be 0 or more`);
    return now + ms;
  }
  if ('at' in timing && timing.at !== undefined) {
    const { at } = timing;
    const ms = typeof at === 'number' ? at : at instanceof Date ? at.getTime() : parseInstant(at);
    if (ms === undefined || !Number.isFinite(ms))
      throw invalid(
        key,
        `timer "${name}": at "${String(at)}" is not a time: write RFC 3339 with a zone, e.g. 2030-01-01T09:00:00Z`,
      );
    return ms;
  }
  throw invalid(key, `timer "${name}": give { at } or { delay }`);
}

function invalid(key: string, why: string): FuzeError {
  return new FuzeError('FUZE_STATE_INVALID', `key "${key}": ${why}`, { details: { key } });
}
