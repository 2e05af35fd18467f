import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { auditLog, deadLetters } from '../schema/index.js';
import { type AuditRow, type DeadLetterFilter, filterConditions } from './dead-letter-rows.js';

export interface PurgeResult {
  /** The purged entries and where their records are in the DLQ stream (to delete them there). */
  purged: Array<{ id: string; dlqStreamSeq: number }>;
  /** Matched but left alone: being replayed. */
  skipped: number;
  auditId: number;
}

/**
 * Marks the entries the filter matches `purged` and writes the audit record, in one
 * transaction. Entries a replay job holds are left alone (and counted).
 */
export async function purgeDeadLetters(
  db: FuzeDb,
  filter: DeadLetterFilter,
  principal: string,
  details: Record<string, unknown> = {},
): Promise<PurgeResult> {
  return db.transaction(async (tx) => {
    const where = and(...filterConditions(filter))!;
    const purged = await tx
      .update(deadLetters)
      .set({ state: 'purged', purgedAt: sql`now()` })
      .where(and(where, inArray(deadLetters.state, ['dead', 'replayed'])))
      .returning({ id: deadLetters.id, dlqStreamSeq: deadLetters.dlqStreamSeq });
    const [{ n }] = (await tx
      .select({ n: count() })
      .from(deadLetters)
      .where(and(where, eq(deadLetters.state, 'replaying')))) as [{ n: number }];
    const [audit] = await tx
      .insert(auditLog)
      .values({
        principal,
        action: 'dlq.purge',
        details: { ...details, filter, purged: purged.length, skipped: Number(n) },
      })
      .returning({ id: auditLog.id });
    return { purged, skipped: Number(n), auditId: audit!.id };
  });
}

/** The audit log, newest first. */
export async function listAuditLog(
  db: FuzeDb,
  query: { action?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(query.action === undefined ? undefined : eq(auditLog.action, query.action))
    .orderBy(desc(auditLog.id))
    .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000));
}
