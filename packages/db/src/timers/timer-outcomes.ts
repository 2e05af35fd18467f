import { sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { rowsOf } from '../raw-results.js';

/** A delivery of a timer firing's event that was given up on (read from its dead letter). */
export interface DeadLetteredFiring {
  key: string;
  generation: number;
  dueMs: number;
  /** The dead-lettered event's source: the firing is the timer's only if it is the template's. */
  eventSource: string;
  deadLetterId: string;
  rule: string;
  target: string;
  error: string;
}

/**
 * Records dead-lettered firings on their timers (re-arming the one-shot timers that ask for it)
 * and returns those that are a timer's: one whose key exists and whose event has the firing's
 * source (any publisher may choose an id that looks like a firing's). The timer's `last_outcome` becomes `dead-lettered` only when the firing is
 * still its last one (same generation and due time): a later firing's outcome is not overwritten.
 * `awaitingCommit` lists those the scheduler has not committed yet (the dead letter came first):
 * nothing is recorded for them, and the caller records them again later.
 * Idempotent: recording the same dead letter again changes nothing.
 */
export async function recordDeadLetteredFirings(
  db: FuzeDb,
  firings: readonly DeadLetteredFiring[],
): Promise<{ timers: DeadLetteredFiring[]; awaitingCommit: DeadLetteredFiring[] }> {
  if (firings.length === 0) return { timers: [], awaitingCommit: [] };
  const payload = JSON.stringify(
    firings.map((f, i) => ({
      i,
      key: f.key,
      generation: f.generation,
      due_at: new Date(f.dueMs).toISOString(),
      source: f.eventSource,
      outcome: {
        state: 'dead-lettered',
        dueAt: new Date(f.dueMs).toISOString(),
        deadLetterId: f.deadLetterId,
        rule: f.rule,
        target: f.target,
        error: f.error,
      },
    })),
  );
  // A completed one-shot timer with re-arms left fires again after its delay, as a new generation
  // (so a new event id); a second dead letter of the same firing finds the generation moved on.
  const rearms = sql`(t.state = 'completed' and t.schedule->>'kind' = 'at' and t.rearm is not null
    and (t.rearm->>'done')::int < (t.rearm->>'times')::int)`;
  const result = await db.execute(sql`
    with f as (
      select * from jsonb_to_recordset(${payload}::jsonb)
        as f(i integer, key text, generation bigint, due_at timestamptz, source text, outcome jsonb)
    ), matched as (
      -- The scheduler commits a firing after publishing it: a dead letter can come first, and
      -- the firing is then not yet the timer's last due time.
      select f.*, (t.generation = f.generation and (t.last_due_at is null or t.last_due_at < f.due_at))
          as awaiting_commit
      from f join timers t on t.key = f.key collate "C" and t.event->>'source' = f.source
    ), recorded as (
      -- Postgres runs a data-modifying WITH to completion whether or not the query reads it.
      update timers t set
        last_outcome = m.outcome,
        updated_at = now(),
        state = case when ${rearms} then 'scheduled' else t.state end,
        next_fire_at = case when ${rearms}
          then date_trunc('milliseconds', clock_timestamp())
            + ((t.rearm->>'afterMs')::bigint * interval '1 millisecond')
          else t.next_fire_at end,
        generation = case when ${rearms} then t.generation + 1 else t.generation end,
        rearm = case when ${rearms}
          then jsonb_set(t.rearm, '{done}', to_jsonb((t.rearm->>'done')::int + 1))
          else t.rearm end
      from matched m
      where t.key = m.key collate "C" and t.generation = m.generation and t.last_due_at = m.due_at
    )
    select i, awaiting_commit from matched order by i`);
  const rows = rowsOf<{ i: number; awaiting_commit: boolean }>(result);
  return {
    timers: rows.map((row) => firings[row.i]!),
    awaitingCommit: rows.filter((row) => row.awaiting_commit).map((row) => firings[row.i]!),
  };
}

/** A delivery of a timer firing's event that a dispatcher completed. */
export interface DeliveredFiring {
  key: string;
  generation: number;
  dueMs: number;
  /** The delivered event's source: the firing is the timer's only if it is the template's. */
  eventSource: string;
  rule: string;
  target: string;
  deliveredAt: Date;
}

/**
 * Records delivered firings on their timers: `last_outcome` becomes `delivered` (with the first
 * target that took the event) when the firing is still the timer's last and its outcome is still
 * `published`, so a dead letter of the same firing, recorded before or after, is never hidden.
 * Idempotent; returns how many timers changed.
 */
export async function recordDeliveredFirings(
  db: FuzeDb,
  firings: readonly DeliveredFiring[],
): Promise<number> {
  if (firings.length === 0) return 0;
  const payload = JSON.stringify(
    firings.map((f) => ({
      key: f.key,
      generation: f.generation,
      due_at: new Date(f.dueMs).toISOString(),
      source: f.eventSource,
      outcome: {
        state: 'delivered',
        dueAt: new Date(f.dueMs).toISOString(),
        rule: f.rule,
        target: f.target,
        deliveredAt: f.deliveredAt.toISOString(),
      },
    })),
  );
  const result = await db.execute(sql`
    with f as (
      select distinct on (key, generation, due_at) *
      from jsonb_to_recordset(${payload}::jsonb)
        as f(key text, generation bigint, due_at timestamptz, source text, outcome jsonb)
    ), recorded as (
      update timers t set last_outcome = f.outcome, updated_at = now()
      from f
      where t.key = f.key collate "C" and t.generation = f.generation and t.last_due_at = f.due_at
        and t.event->>'source' = f.source and t.last_outcome->>'state' = 'published'
      returning 1
    )
    select count(*)::int as n from recorded`);
  return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
}
