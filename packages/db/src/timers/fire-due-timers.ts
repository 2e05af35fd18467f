import { sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { affectedRows, parseJson, rowsOf } from '../raw-results.js';
import type {
  StoredTimerEvent,
  StoredTimerSchedule,
  TimerMisfirePolicy,
  TimerOrigin,
  TimerState,
} from '../schema/index.js';
import type { TimerDefinition } from './timer-rows.js';

/** A timer a scheduler claimed: locked until its transaction ends. */
export interface ClaimedTimer extends TimerDefinition {
  generation: number;
  /** next_fire_at, epoch ms. */
  dueMs: number;
  /** W3C traceparent of whoever set the timer (the firing's trace links to it). */
  traceparent: string | null;
}

/**
 * Claims up to `limit` timers due by the database clock, oldest first, with FOR UPDATE SKIP
 * LOCKED: rows another transaction holds (a firing elsewhere, a put or cancel) are skipped.
 * Also returns the database clock at the claim. One statement; call inside a transaction.
 *
 * It also turns `synchronous_commit` off for the transaction: its commit does not wait for the
 * WAL flush. A Postgres crash can then forget the last few hundred milliseconds of firings; those
 * timers are due again and fire again with the same Nats-Msg-Id, which JetStream drops (within
 * its duplicate window), so no event is lost or doubled and each firing saves an fsync wait.
 */
export async function claimDueTimers(
  tx: FuzeDb,
  limit: number,
): Promise<{ dbNowMs: number; timers: ClaimedTimer[] }> {
  const rows = rowsOf<{
    db_now: number;
    key: string | null;
    bus: string;
    origin: TimerOrigin;
    event: StoredTimerEvent | string;
    schedule: StoredTimerSchedule | string;
    misfire: TimerMisfirePolicy;
    misfire_grace_ms: number;
    generation: number;
    due: number;
    traceparent: string | null;
  }>(
    await tx.execute(sql`
      select n.db_now, c.*
      from (
        select (extract(epoch from now()) * 1000)::float8 as db_now,
               set_config('synchronous_commit', 'off', true) as synchronous_commit
      ) n
      left join lateral (
        select key, bus, origin, event, schedule, misfire, misfire_grace_ms, traceparent,
               generation::float8 as generation,
               (extract(epoch from next_fire_at) * 1000)::float8 as due
        from timers
        where state = 'scheduled' and next_fire_at <= now()
        order by next_fire_at
        limit ${limit}
        for update skip locked
      ) c on true`),
  );
  const dbNowMs = rows[0]!.db_now;
  const claimed: ClaimedTimer[] = [];
  for (const r of rows) {
    if (r.key === null) continue;
    claimed.push({
      key: r.key,
      bus: r.bus,
      origin: r.origin,
      event: parseJson(r.event),
      schedule: parseJson(r.schedule),
      misfire: r.misfire,
      misfireGraceMs: r.misfire_grace_ms,
      generation: r.generation,
      dueMs: r.due,
      traceparent: r.traceparent ?? null,
    });
  }
  return { dbNowMs, timers: claimed };
}

/** The new state of one claimed timer after its firing. */
export interface FiringOutcome {
  key: string;
  /** The generation claimed: the update applies only if the timer was not replaced meanwhile. */
  generation: number;
  state: Extract<TimerState, 'scheduled' | 'completed' | 'failed'>;
  nextFireAtMs: number | undefined;
  /** Due time of the last event published, if any. */
  lastDueMs: number | undefined;
  /** Events published for this timer in this claim. */
  fired: number;
  lastError?: string | undefined;
}

/** Records the outcome of a claim: one statement for the whole batch. Returns rows updated. */
export async function commitFirings(tx: FuzeDb, outcomes: readonly FiringOutcome[]): Promise<number> {
  if (outcomes.length === 0) return 0;
  const payload = JSON.stringify(
    outcomes.map((o) => ({
      key: o.key,
      generation: o.generation,
      state: o.state,
      next_fire_at: o.nextFireAtMs === undefined ? null : new Date(o.nextFireAtMs).toISOString(),
      last_due_at: o.lastDueMs === undefined ? null : new Date(o.lastDueMs).toISOString(),
      fired: o.fired,
      last_error: o.lastError ?? null,
      outcome:
        o.fired > 0 && o.lastDueMs !== undefined
          ? { state: 'published', dueAt: new Date(o.lastDueMs).toISOString() }
          : null,
    })),
  );
  const result = await tx.execute(sql`
    update timers t set
      state = u.state,
      next_fire_at = u.next_fire_at,
      last_due_at = coalesce(u.last_due_at, t.last_due_at),
      last_fired_at = case when u.fired > 0 then clock_timestamp() else t.last_fired_at end,
      fire_count = t.fire_count + u.fired,
      last_error = u.last_error,
      last_outcome = coalesce(u.outcome, t.last_outcome),
      updated_at = now()
    from jsonb_to_recordset(${payload}::jsonb) as u(
      key text, generation bigint, state text, next_fire_at timestamptz,
      last_due_at timestamptz, fired integer, last_error text, outcome jsonb)
    where t.key = u.key collate "C" and t.generation = u.generation`);
  return affectedRows(result);
}

/**
 * Due times (epoch ms) of scheduled timers due before now + `horizonMs` (past ones included),
 * oldest first, at most `limit`; and the database clock. One indexed range query.
 */
export async function peekDueTimes(
  db: FuzeDb,
  horizonMs: number,
  limit: number,
): Promise<{ dbNowMs: number; dueTimes: number[] }> {
  const rows = rowsOf<{ db_now: number; due: number | null }>(
    await db.execute(sql`
      select n.db_now, c.due
      from (select (extract(epoch from now()) * 1000)::float8 as db_now) n
      left join lateral (
        select (extract(epoch from next_fire_at) * 1000)::float8 as due
        from timers
        where state = 'scheduled' and next_fire_at < now() + ${horizonMs} * interval '1 millisecond'
        order by next_fire_at
        limit ${limit}
      ) c on true`),
  );
  return {
    dbNowMs: rows[0]!.db_now,
    dueTimes: rows.flatMap((r) => (r.due === null ? [] : [r.due])),
  };
}
