import { sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import type {
  StoredTimerEvent,
  StoredTimerSchedule,
  TimerMisfirePolicy,
  TimerOrigin,
  timers,
} from '../schema/index.js';

/**
 * Timer storage. API writes (put, cancel) take the row lock, so they wait for a firing that holds
 * it and a firing skips a row they hold: a replace or cancel is ordered entirely before or
 * entirely after each firing. Writers NOTIFY {@link TIMER_NOTIFY_CHANNEL} when a timer becomes due
 * within {@link TIMER_NOTIFY_HORIZON_MS}, so schedulers need not poll for near timers.
 */
export const TIMER_NOTIFY_CHANNEL = 'fuze_timers';
/** Writers notify only for due times nearer than this; schedulers' range query covers the rest. */
export const TIMER_NOTIFY_HORIZON_MS = 60_000;

export type TimerRow = typeof timers.$inferSelect;
export {
  type StoredRearm,
  type StoredTimerEvent,
  type StoredTimerSchedule,
  type TimerMisfirePolicy,
  type TimerOrigin,
  type TimerOutcome,
  type TimerState,
  timerMisfirePolicies,
  timerOrigins,
  timerStates,
} from '../schema/index.js';

/** Tells idle schedulers about a due time within the notify horizon. */
export async function notifyDue(db: FuzeDb, dueMs: number, nowMs: number): Promise<void> {
  if (dueMs - nowMs > TIMER_NOTIFY_HORIZON_MS) return;
  await db.execute(sql`select pg_notify(${TIMER_NOTIFY_CHANNEL}, ${String(Math.round(dueMs))})`);
}

/** What defines a timer, as a put writes it and a firing claims it. */
export interface TimerDefinition {
  key: string;
  bus: string;
  origin: TimerOrigin;
  event: StoredTimerEvent;
  schedule: StoredTimerSchedule;
  misfire: TimerMisfirePolicy;
  misfireGraceMs: number;
}
