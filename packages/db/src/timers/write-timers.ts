import { and, eq, getTableColumns, inArray, not, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { rowsOf } from '../raw-results.js';
import { type TimerOrigin, type TimerState, timers } from '../schema/index.js';
import { notifyDue, type TimerDefinition, type TimerRow } from './timer-rows.js';

/** What a put stores. `nextFireAtMs` undefined: nothing to fire (paused, or a cron that never fires). */
export interface TimerWrite extends TimerDefinition {
  state: Extract<TimerState, 'scheduled' | 'paused' | 'completed'>;
  nextFireAtMs: number | undefined;
  traceparent?: string | undefined;
  /** One-shot timers: re-arm after a dead-lettered firing (a put starts the count again). */
  rearm?: { afterMs: number; times: number } | undefined;
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
  const [written] = await writeTimers(db, [write], nowMs);
  return written!;
}

/**
 * Creates or replaces many timers in one statement, as {@link writeTimer} does one; the keys must
 * be distinct. Returns them in the order given.
 */
export async function writeTimers(
  db: FuzeDb,
  writes: readonly TimerWrite[],
  nowMs: number,
): Promise<Array<{ timer: TimerRow; created: boolean }>> {
  if (writes.length === 0) return [];
  const rows = writes.map(timerValues);
  // Every column a replace sets, from the row it would have inserted.
  const replaced = Object.fromEntries(
    replacedColumns.map((column) => [column, sql.raw(`excluded.${timers[column].name}`)]),
  );
  const written = await db
    .insert(timers)
    .values(rows)
    .onConflictDoUpdate({
      target: timers.key,
      set: { ...replaced, generation: sql`${timers.generation} + 1`, updatedAt: sql`now()` },
    })
    .returning({ ...getTableColumns(timers), created: sql<boolean>`(xmax = 0)` });
  const byKey = new Map(written.map(({ created, ...timer }) => [timer.key, { timer, created }]));
  const soonest = Math.min(
    ...rows.flatMap((row) => (row.state === 'scheduled' && row.nextFireAt ? [row.nextFireAt.getTime()] : [])),
  );
  if (Number.isFinite(soonest)) await notifyDue(db, soonest, nowMs);
  return writes.map((write) => byKey.get(write.key)!);
}

const replacedColumns = [
  'bus',
  'origin',
  'event',
  'schedule',
  'misfire',
  'misfireGraceMs',
  'state',
  'nextFireAt',
  'traceparent',
  'lastError',
  'rearm',
] as const;

function timerValues(write: TimerWrite) {
  const nextFireAt = write.nextFireAtMs === undefined ? null : new Date(write.nextFireAtMs);
  return {
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
    rearm: write.rearm ? { ...write.rearm, done: 0 } : null,
  };
}

/** Creates or replaces the timers armed by `arm` against the database clock, in one transaction. */
export async function putTimers(
  db: FuzeDb,
  arm: (nowMs: number) => TimerWrite[],
): Promise<Array<{ timer: TimerRow; created: boolean }>> {
  return db.transaction(async (tx) => {
    const nowMs = await databaseNow(tx);
    return writeTimers(tx, arm(nowMs), nowMs);
  });
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
  const [row] = await db.update(timers).set(cancelled()).where(eq(timers.key, key)).returning();
  return row;
}

/**
 * Makes a scheduled timer due now (an operator's "fire now"): its next firing moves to the
 * database's now and the scheduler is woken; after it fires, a cron or rate timer goes on from its
 * schedule and a one-shot timer completes. Waits for a firing in flight on it. Undefined when no
 * scheduled timer has this key.
 */
export async function fireTimerNow(db: FuzeDb, key: string): Promise<TimerRow | undefined> {
  return db.transaction(async (tx) => {
    const nowMs = await databaseNow(tx);
    const [row] = await tx
      .update(timers)
      .set({ nextFireAt: new Date(nowMs), updatedAt: sql`now()` })
      .where(and(eq(timers.key, key), eq(timers.state, 'scheduled')))
      .returning();
    if (row) await notifyDue(tx, nowMs, nowMs);
    return row;
  });
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
    .set(cancelled())
    .where(and(...conditions))
    .returning({ key: timers.key });
  return rows.map((r) => r.key);
}

/** A cancel: nothing due, generation bumped (a firing in flight sees it changed), the record kept. */
function cancelled() {
  return {
    state: 'cancelled' as const,
    nextFireAt: null,
    generation: sql`${timers.generation} + 1`,
    updatedAt: sql`now()`,
  };
}
