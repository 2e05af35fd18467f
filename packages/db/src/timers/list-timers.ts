import { and, asc, eq, gt, gte, like, lte, type SQL } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { decodePageCursor, encodePageCursor } from '../page-cursor.js';
import { type TimerState, timers } from '../schema/index.js';
import type { TimerRow } from './timer-rows.js';

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
  if (query.cursor !== undefined)
    conditions.push(gt(timers.key, decodePageCursor(query.cursor, readPosition)));
  const rows = await db
    .select()
    .from(timers)
    .where(and(...conditions))
    .orderBy(asc(timers.key))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const more = rows.length > limit;
  return { items, nextCursor: more ? encodePageCursor({ after: items[items.length - 1]!.key }) : undefined };
}

/** Where a page ended: the last timer's key. */
function readPosition(value: unknown): string | undefined {
  const after = (value as { after?: unknown } | null)?.after;
  return typeof after === 'string' ? after : undefined;
}
