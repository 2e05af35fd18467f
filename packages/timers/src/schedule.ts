import { compileCron } from './cron.js';
import type { MisfirePolicy, ResolvedSchedule, TimerSchedule, TimerSpec } from './types.js';

/**
 * Resolves a requested schedule against `nowMs` (the database clock when the timer is put) and
 * returns what to store and the first due time. `at` may lie in the past: the timer is then due
 * at once (and late, so its misfire policy applies). `rate` fires first one period after now.
 * `nextFireAtMs` is undefined only for a cron expression that never fires again.
 */
export function armSchedule(
  schedule: TimerSchedule,
  nowMs: number,
): { schedule: ResolvedSchedule; nextFireAtMs: number | undefined } {
  switch (schedule.kind) {
    case 'at':
      return { schedule: { kind: 'at', at: schedule.at }, nextFireAtMs: Date.parse(schedule.at) };
    case 'delay': {
      const at = nowMs + schedule.delayMs;
      return {
        schedule: { kind: 'at', at: new Date(at).toISOString(), delayMs: schedule.delayMs },
        nextFireAtMs: at,
      };
    }
    case 'cron':
      return {
        schedule: { kind: 'cron', cron: schedule.cron, timezone: schedule.timezone },
        nextFireAtMs: compileCron(schedule.cron, schedule.timezone).nextAfter(nowMs),
      };
    case 'rate':
      return { schedule: { kind: 'rate', rateMs: schedule.rateMs }, nextFireAtMs: nowMs + schedule.rateMs };
  }
}

/** The due time after `dueMs` (which was a due time of this schedule), or undefined for none. */
export function nextDueAfter(schedule: ResolvedSchedule, dueMs: number): number | undefined {
  switch (schedule.kind) {
    case 'at':
      return undefined;
    case 'cron':
      return compileCron(schedule.cron, schedule.timezone).nextAfter(dueMs);
    case 'rate':
      return dueMs + schedule.rateMs;
  }
}

/** The first due time strictly after `nowMs`, keeping a rate's phase (due + k * rate). */
function firstDueAfterNow(schedule: ResolvedSchedule, dueMs: number, nowMs: number): number | undefined {
  switch (schedule.kind) {
    case 'at':
      return undefined;
    case 'cron':
      return compileCron(schedule.cron, schedule.timezone).nextAfter(nowMs);
    case 'rate':
      return dueMs + (Math.floor((nowMs - dueMs) / schedule.rateMs) + 1) * schedule.rateMs;
  }
}

/** A timer as the scheduler claimed it: due at `dueMs` by the database clock. */
export interface DueTimer {
  readonly schedule: ResolvedSchedule;
  readonly misfire: MisfirePolicy;
  readonly misfireGraceMs: number;
  readonly dueMs: number;
}

/** What one claim of a due timer does: the due times to fire (in order) and the next due time. */
export interface FiringPlan {
  /** Due times to publish an event for now; empty when the misfire policy skips them. */
  readonly fire: readonly number[];
  /** The next due time, or undefined when the timer is done (one-shot fired or skipped). */
  readonly nextFireAtMs: number | undefined;
  /** True when the first due time was later than the grace: the misfire policy applied. */
  readonly misfired: boolean;
}

/** At most this many due times fire for one timer in one claim; the rest come in the next claim. */
export const MAX_FIRINGS_PER_CLAIM = 100;

/**
 * Plans the firing of a claimed timer at `nowMs` (database clock). Deterministic in the claimed
 * row: the events published depend only on the due times stored, never on `nowMs` beyond which
 * due times have come, so a claim retried after a crash publishes the same events (same ids).
 *
 * On time (`nowMs - dueMs <= grace`): fire the due time, and any later due times already come
 * (a short catch-up, e.g. a 1s rate after a 3s hiccup). Late: apply the misfire policy.
 */
export function planFiring(timer: DueTimer, nowMs: number): FiringPlan {
  const late = nowMs - timer.dueMs > timer.misfireGraceMs;
  if (late && timer.misfire !== 'fire-all') {
    return {
      fire: timer.misfire === 'fire-once' ? [timer.dueMs] : [],
      nextFireAtMs: firstDueAfterNow(timer.schedule, timer.dueMs, nowMs),
      misfired: true,
    };
  }
  const fire = [timer.dueMs];
  let next = nextDueAfter(timer.schedule, timer.dueMs);
  while (next !== undefined && next <= nowMs && fire.length < MAX_FIRINGS_PER_CLAIM) {
    fire.push(next);
    next = nextDueAfter(timer.schedule, next);
  }
  return { fire, nextFireAtMs: next, misfired: late };
}

/** A timer spec armed against `nowMs`: what to store, and its first due time. */
export interface ArmedTimer {
  key: string;
  bus: string;
  event: TimerSpec['event'];
  schedule: ResolvedSchedule;
  misfire: MisfirePolicy;
  misfireGraceMs: number;
  /** Undefined only for a cron expression that never fires again. */
  nextFireAtMs: number | undefined;
  rearm?: TimerSpec['rearm'];
}

export function armTimer(spec: TimerSpec, nowMs: number): ArmedTimer {
  const armed = armSchedule(spec.schedule, nowMs);
  return {
    key: spec.key,
    bus: spec.bus,
    event: spec.event,
    schedule: armed.schedule,
    misfire: spec.misfire,
    misfireGraceMs: spec.misfireGraceMs,
    nextFireAtMs: armed.nextFireAtMs,
    ...(spec.rearm ? { rearm: spec.rearm } : {}),
  };
}
