import type { TimerEventTemplate } from '@fuze/core';
import { sql } from 'drizzle-orm';
import { bigint, customType, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Text compared byte by byte (`COLLATE "C"`): key order does not depend on the server's locale,
 * and `LIKE 'prefix%'` can use the primary-key index (prefix listing, cursor pagination).
 */
const textC = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

/** Where a timer came from: the admin API/SDK/CLI, a `kind: Schedule` YAML document, or a held event. */
export const timerOrigins = ['api', 'schedule', 'delayed'] as const;
export type TimerOrigin = (typeof timerOrigins)[number];

/**
 * `scheduled`: armed, `next_fire_at` set. `completed`: a one-shot timer that fired (or was skipped
 * by its misfire policy). `cancelled`: DELETEd or pruned. `paused`: a disabled YAML schedule.
 * `failed`: JetStream refused its event for good (e.g. too large); a PUT re-arms it.
 */
export const timerStates = ['scheduled', 'completed', 'cancelled', 'paused', 'failed'] as const;
export type TimerState = (typeof timerStates)[number];

export const timerMisfirePolicies = ['fire-once', 'fire-all', 'skip'] as const;
export type TimerMisfirePolicy = (typeof timerMisfirePolicies)[number];

/**
 * How a timer repeats, as stored. `delay` is kept for display but is already resolved into `at`
 * (against the database clock) when the timer is put.
 */
export type StoredTimerSchedule =
  | { kind: 'at'; at: string; delayMs?: number }
  | { kind: 'cron'; cron: string; timezone: string }
  | { kind: 'rate'; rateMs: number };

/**
 * What became of a timer's last firing, once known: `published` when the firing committed (the
 * event is in the bus), `delivered` when a dispatcher delivered that event to a target (the first
 * to succeed), `dead-lettered` when a delivery of it was given up on (this wins over `delivered`).
 */
export type TimerOutcome =
  | { state: 'published'; dueAt: string }
  | { state: 'delivered'; dueAt: string; rule: string; target: string; deliveredAt: string }
  | {
      state: 'dead-lettered';
      dueAt: string;
      deadLetterId: string;
      rule: string;
      target: string;
      error: string;
    };

/** A one-shot timer's re-arm policy (`rearm` of a put) and how many re-arms it has used since. */
export interface StoredRearm {
  afterMs: number;
  times: number;
  done: number;
}

/** The event a timer publishes (for `delayed` timers, the whole held event). */
export type StoredTimerEvent = TimerEventTemplate;

/**
 * Timers ("time to event"): the record stays after it fires, with its last fire time, next fire
 * time and fire count. Scheduler instances claim due rows with FOR UPDATE SKIP LOCKED.
 */
export const timers = pgTable(
  'timers',
  {
    key: textC('key').primaryKey(),
    bus: text('bus').notNull(),
    origin: text('origin', { enum: timerOrigins }).notNull().default('api'),
    event: jsonb('event').$type<StoredTimerEvent>().notNull(),
    schedule: jsonb('schedule').$type<StoredTimerSchedule>().notNull(),
    misfire: text('misfire', { enum: timerMisfirePolicies }).notNull().default('fire-once'),
    /** Later than this past its due time, a firing is a misfire and the policy applies. */
    misfireGraceMs: integer('misfire_grace_ms').notNull().default(60_000),
    state: text('state', { enum: timerStates }).notNull().default('scheduled'),
    nextFireAt: timestamp('next_fire_at', { withTimezone: true, precision: 3 }),
    /** Due time of the last firing (the event's `time`). */
    lastDueAt: timestamp('last_due_at', { withTimezone: true, precision: 3 }),
    /** When the last firing was committed (database clock). */
    lastFiredAt: timestamp('last_fired_at', { withTimezone: true }),
    fireCount: bigint('fire_count', { mode: 'number' }).notNull().default(0),
    /** Bumped by every replace: a firing only commits against the generation it claimed. */
    generation: bigint('generation', { mode: 'number' }).notNull().default(1),
    /** W3C traceparent of the request that set the timer (for a span link at firing). */
    traceparent: text('traceparent'),
    lastError: text('last_error'),
    lastOutcome: jsonb('last_outcome').$type<TimerOutcome>(),
    rearm: jsonb('rearm').$type<StoredRearm>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('timers_due_idx').on(t.nextFireAt).where(sql`state = 'scheduled'`)],
);
