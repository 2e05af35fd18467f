import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { decodePageCursor, encodePageCursor } from '../page-cursor.js';
import { deadLetters } from '../schema/index.js';
import { type DeadLetterFilter, type DeadLetterRow, filterConditions } from './dead-letter-rows.js';

/** True when the filter narrows anything down (bulk operations refuse an empty one unless told). */
export function isEmptyDeadLetterFilter(filter: DeadLetterFilter): boolean {
  return Object.values(filter).every((v) => v === undefined);
}

/** Newest first, a page at a time; `nextCursor` is absent on the last page. */
export async function listDeadLetters(
  db: FuzeDb,
  filter: DeadLetterFilter,
  page: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<{ items: DeadLetterRow[]; nextCursor: string | undefined }> {
  const limit = Math.min(Math.max(page.limit ?? 100, 1), 1000);
  const conditions = filterConditions(filter);
  if (page.cursor !== undefined) {
    const after = decodePageCursor(page.cursor, readPosition);
    conditions.push(
      sql`(${deadLetters.deadLetteredAt}, ${deadLetters.id}) < (${after.at}::timestamptz, ${after.id})`,
    );
  }
  const rows = await db
    .select()
    .from(deadLetters)
    .where(and(...conditions))
    .orderBy(desc(deadLetters.deadLetteredAt), desc(deadLetters.id))
    .limit(limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      rows.length > limit && last
        ? encodePageCursor([last.deadLetteredAt.toISOString(), last.id])
        : undefined,
  };
}

export async function getDeadLetter(db: FuzeDb, id: string): Promise<DeadLetterRow | undefined> {
  const [row] = await db.select().from(deadLetters).where(eq(deadLetters.id, id)).limit(1);
  return row;
}

/** The dead letters that failed replays of `id` produced (newest last). */
export async function listReplayFailuresOf(db: FuzeDb, id: string): Promise<DeadLetterRow[]> {
  return db
    .select()
    .from(deadLetters)
    .where(eq(deadLetters.replayOf, id))
    .orderBy(asc(deadLetters.deadLetteredAt), asc(deadLetters.id));
}

/** Where a page ended: the last entry's time and id (the list's order). */
function readPosition(value: unknown): { at: string; id: string } | undefined {
  if (
    Array.isArray(value) &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'string' &&
    !Number.isNaN(Date.parse(value[0]))
  ) {
    return { at: value[0], id: value[1] };
  }
  return undefined;
}

/** How many dead letters wait (state `dead`) per target: the DLQ's depth, target by target. */
export async function countDeadLettersByTarget(db: FuzeDb): Promise<Map<string, number>> {
  const rows = await db
    .select({ target: deadLetters.target, count: sql<number>`count(*)::int` })
    .from(deadLetters)
    .where(eq(deadLetters.state, 'dead'))
    .groupBy(deadLetters.target);
  return new Map(rows.map((r) => [r.target, Number(r.count)]));
}
