import { FuzeError } from '@fuze/core';
import { and, asc, eq, getTableColumns, gt, gte, inArray, like, lte, not, type SQL, sql } from 'drizzle-orm';
import type { FuzeDb } from './database.js';
import {
  type StoredTimerEvent,
  type StoredTimerSchedule,
  type TimerMisfirePolicy,
  type TimerOrigin,
  type TimerState,
  timers,
} from './schema/index.js';

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
  type StoredTimerEvent,
  type StoredTimerSchedule,
  type TimerMisfirePolicy,
  type TimerOrigin,
  type TimerState,
  timerMisfirePolicies,
  timerOrigins,
  timerStates,
} from './schema/index.js';

/** What a put stores. `nextFireAtMs` undefined: nothing to fire (paused, or a cron that never fires). */
export interface TimerWrite {
  key: string;
  bus: string;
  origin: TimerOrigin;
  event: StoredTimerEvent;
  schedule: StoredTimerSchedule;
  misfire: TimerMisfirePolicy;
  misfireGraceMs: number;
  state: Extract<TimerState, 'scheduled' | 'paused' | 'completed'>;
  nextFireAtMs: number | undefined;
  traceparent?: string | undefined;
}

/** The database clock, epoch milliseconds: timers are armed and found due against it. */
export async function databaseNow(db: FuzeDb): Promise<number> {
  const [row] = rowsOf<{ now_ms: number }>(
    await db.execute(sql`select (extract(epoch from clock_timestamp()) * 1000)::float8 as now_ms`),
  );
  return row!.now_ms;
}

/**
 * Creates or replaces a timer (a replace bumps `generation` and re-arms; fire count and last
 * firing are kept). Call inside a transaction when `nowMs` came from {@link databaseNow}.
 */
export async function writeTimer(
  db: FuzeDb,
  write: TimerWrite,
  nowMs: number,
): Promise<{ timer: TimerRow; created: boolean }> {
  const nextFireAt = write.nextFireAtMs === undefined ? null : new Date(write.nextFireAtMs);
  const values = {
    key: write.key,
    bus: write.bus,
    origin: write.origin,
    event: write.event,
    schedule: write.schedule,
    misfire: write.misfire,
    misfireGraceMs: write.misfireGraceMs,
    state: nextFireAt === null && write.state === 'scheduled' ? ('completed' as const) : write.state,
    nextFireAt,
    traceparent: write.traceparent ?? null,
    lastError: null,
  };
  const [row] = await db
    .insert(timers)
    .values(values)
    .onConflictDoUpdate({
      target: timers.key,
      set: {
        ...values,
        key: undefined,
        generation: sql`${timers.generation} + 1`,
        updatedAt: sql`now()`,
      },
    })
    .returning({ ...getTableColumns(timers), created: sql<boolean>`(xmax = 0)` });
  const { created, ...timer } = row!;
  if (write.nextFireAtMs !== undefined && values.state === 'scheduled') {
    await notifyDue(db, write.nextFireAtMs, nowMs);
  }
  return { timer, created };
}

/** Creates or replaces a timer armed by `arm` against the database clock, in one transaction. */
export async function putTimer(
  db: FuzeDb,
  arm: (nowMs: number) => TimerWrite,
): Promise<{ timer: TimerRow; created: boolean }> {
  return db.transaction(async (tx) => {
    const nowMs = await databaseNow(tx);
    return writeTimer(tx, arm(nowMs), nowMs);
  });
}

export async function getTimer(db: FuzeDb, key: string): Promise<TimerRow | undefined> {
  const [row] = await db.select().from(timers).where(eq(timers.key, key)).limit(1);
  return row;
}

/**
 * Cancels a timer: state `cancelled`, nothing due, generation bumped; the record stays (GET shows
 * it, a PUT re-arms it). Waits for a firing in flight on it. Undefined for an unknown key.
 */
export async function cancelTimer(db: FuzeDb, key: string): Promise<TimerRow | undefined> {
  const [row] = await db
    .update(timers)
    .set({
      state: 'cancelled',
      nextFireAt: null,
      generation: sql`${timers.generation} + 1`,
      updatedAt: sql`now()`,
    })
    .where(eq(timers.key, key))
    .returning();
  return row;
}

/** Locks the existing timers among `keys` (FOR UPDATE) and returns them. */
export async function lockTimers(db: FuzeDb, keys: readonly string[]): Promise<TimerRow[]> {
  if (keys.length === 0) return [];
  return db
    .select()
    .from(timers)
    .where(inArray(timers.key, [...keys]))
    .for('update');
}

/** Cancels the live timers of `origin` (on `buses`, when given) whose key is not in `keep`; returns their keys. */
export async function cancelTimersNotIn(
  db: FuzeDb,
  origin: TimerOrigin,
  keep: readonly string[],
  buses?: readonly string[],
): Promise<string[]> {
  const conditions = [eq(timers.origin, origin), not(eq(timers.state, 'cancelled'))];
  if (buses) conditions.push(inArray(timers.bus, [...buses]));
  if (keep.length > 0) conditions.push(not(inArray(timers.key, [...keep])));
  const rows = await db
    .update(timers)
    .set({
      state: 'cancelled',
      nextFireAt: null,
      generation: sql`${timers.generation} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(...conditions))
    .returning({ key: timers.key });
  return rows.map((r) => r.key);
}

export interface TimerListQuery {
  prefix?: string | undefined;
  /** Next fire time at or after this. */
  dueFrom?: Date | undefined;
  /** Next fire time at or before this. */
  dueTo?: Date | undefined;
  state?: TimerState | undefined;
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
  /** 1..1000, default 100. */
  limit?: number | undefined;
}

/** Timers in key order, a page at a time; `nextCursor` is set when there may be more. */
export async function listTimers(
  db: FuzeDb,
  query: TimerListQuery,
): Promise<{ items: TimerRow[]; nextCursor: string | undefined }> {
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
  const conditions: SQL[] = [];
  if (query.prefix) conditions.push(like(timers.key, `${query.prefix.replace(/[\\%_]/g, '\\$&')}%`));
  if (query.dueFrom) conditions.push(gte(timers.nextFireAt, query.dueFrom));
  if (query.dueTo) conditions.push(lte(timers.nextFireAt, query.dueTo));
  if (query.state) conditions.push(eq(timers.state, query.state));
  if (query.cursor !== undefined) conditions.push(gt(timers.key, decodeCursor(query.cursor)));
  const rows = await db
    .select()
    .from(timers)
    .where(and(...conditions))
    .orderBy(asc(timers.key))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const more = rows.length > limit;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.key) : undefined };
}

function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // fall through
  }
  throw new FuzeError('FUZE_INVALID_REQUEST', 'querystring.cursor: not a cursor this API returned', {
    details: { problems: [{ pointer: 'querystring.cursor', message: 'not a cursor this API returned' }] },
  });
}

/** A timer a scheduler claimed: locked until its transaction ends. */
export interface ClaimedTimer {
  key: string;
  bus: string;
  origin: TimerOrigin;
  event: StoredTimerEvent;
  schedule: StoredTimerSchedule;
  misfire: TimerMisfirePolicy;
  misfireGraceMs: number;
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
      updated_at = now()
    from jsonb_to_recordset(${payload}::jsonb) as u(
      key text, generation bigint, state text, next_fire_at timestamptz,
      last_due_at timestamptz, fired integer, last_error text)
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

/** An event held for delayed delivery, as a one-shot timer. */
export interface HeldEvent {
  /** heldEventTimerKey(source, id): one timer per event identity. */
  key: string;
  bus: string;
  /** The event as it will enter the bus (delivery extensions removed). */
  event: StoredTimerEvent;
  atMs: number;
  traceparent?: string | undefined;
}

/**
 * Stores held events as one-shot timers in one transaction; an event already held (same key,
 * whatever its state) is left alone, so a redelivered message is a no-op. Returns how many
 * were new.
 */
export async function holdEvents(db: FuzeDb, held: readonly HeldEvent[]): Promise<number> {
  if (held.length === 0) return 0;
  const payload = JSON.stringify(
    held.map((h) => ({
      key: h.key,
      bus: h.bus,
      event: h.event,
      at: new Date(h.atMs).toISOString(),
      traceparent: h.traceparent ?? null,
    })),
  );
  return db.transaction(async (tx) => {
    const [row] = rowsOf<{ inserted: number; earliest: number | null; db_now: number }>(
      await tx.execute(sql`
        with ins as (
          insert into timers (key, bus, origin, event, schedule, misfire, state, next_fire_at, traceparent)
          select r.key, r.bus, 'delayed', r.event, jsonb_build_object('kind', 'at', 'at', r.at), 'fire-once',
                 'scheduled', r.at::timestamptz, r.traceparent
          from jsonb_to_recordset(${payload}::jsonb) as r(key text, bus text, event jsonb, at text, traceparent text)
          on conflict (key) do nothing
          returning next_fire_at
        )
        select count(*)::int as inserted,
               (extract(epoch from min(next_fire_at)) * 1000)::float8 as earliest,
               (extract(epoch from now()) * 1000)::float8 as db_now
        from ins`),
    );
    if (row!.earliest !== null) await notifyDue(tx, row!.earliest, row!.db_now);
    return row!.inserted;
  });
}

async function notifyDue(db: FuzeDb, dueMs: number, nowMs: number): Promise<void> {
  if (dueMs - nowMs > TIMER_NOTIFY_HORIZON_MS) return;
  await db.execute(sql`select pg_notify(${TIMER_NOTIFY_CHANNEL}, ${String(Math.round(dueMs))})`);
}

/** Rows of a raw query, whichever driver ran it (postgres.js: an array; PGlite: `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

function affectedRows(result: unknown): number {
  const r = result as { count?: number; affectedRows?: number };
  return r.count ?? r.affectedRows ?? 0;
}

function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
