import type { TimerEventTemplate } from '@fuze/core';

/**
 * What to do about firings of a recurring timer missed while no scheduler could fire them
 * (outage, Postgres down) for longer than the timer's misfire grace:
 * - `fire-once` (default): fire the first missed due time once, then resume at the next due
 *   time after now;
 * - `fire-all`: fire every missed due time, oldest first, then carry on;
 * - `skip`: fire none of them and resume at the next due time after now.
 */
export type MisfirePolicy = 'fire-once' | 'fire-all' | 'skip';
export const misfirePolicies: readonly MisfirePolicy[] = ['fire-once', 'fire-all', 'skip'];

/** How a timer is asked to fire: same shape as `ScheduleTiming` of a `kind: Schedule` document. */
export type TimerSchedule =
  | { readonly kind: 'at'; readonly at: string }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly timezone: string }
  | { readonly kind: 'rate'; readonly rateMs: number };

/**
 * A schedule as stored: `delay` resolved into `at` against the database clock when the timer
 * was put (the delay is kept for display and to tell a re-applied YAML schedule unchanged).
 */
export type ResolvedSchedule =
  | { kind: 'at'; at: string; delayMs?: number }
  | { kind: 'cron'; cron: string; timezone: string }
  | { kind: 'rate'; rateMs: number };

export type { TimerEventTemplate } from '@fuze/core';

/** A validated timer definition (from the admin API, the SDK, the CLI or YAML). */
export interface TimerSpec {
  readonly key: string;
  readonly bus: string;
  readonly event: TimerEventTemplate;
  readonly schedule: TimerSchedule;
  readonly misfire: MisfirePolicy;
  readonly misfireGraceMs: number;
  /** One-shot timers only: fire again `afterMs` after a firing whose event was dead-lettered, at most `times` times. */
  readonly rearm?: RearmPolicy;
}

/** Re-arming a one-shot timer whose event was dead-lettered. */
export interface RearmPolicy {
  readonly afterMs: number;
  readonly times: number;
}

/** The longest wait before a re-armed firing, and the most re-arms of one put. */
export const MAX_REARM_AFTER_MS = 30 * 86_400_000;
export const MAX_REARM_TIMES = 100;

/** Default misfire grace: a firing later than this after its due time is a misfire. */
export const DEFAULT_MISFIRE_GRACE_MS = 60_000;
export const MAX_MISFIRE_GRACE_MS = 7 * 86_400_000;
/** The shortest `rate`: one firing per second. */
export const MIN_RATE_MS = 1_000;
