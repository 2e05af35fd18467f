import { asc, eq, gte, ilike, lte, ne, or, type SQL, sql } from 'drizzle-orm';
import { type auditLog, deadLetters, type replayJobs, type StoredDeadLetterFilter } from '../schema/index.js';

/**
 * The dead-letter index, replay jobs and the audit log: their row types and the filter and order
 * every query of them shares. The records themselves live in the DLQ stream; rows here point at
 * them by stream sequence.
 */
export type DeadLetterRow = typeof deadLetters.$inferSelect;
export type ReplayJobRow = typeof replayJobs.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export {
  type ArchiveReplayProgress,
  type ArchiveWindow,
  type DeadLetterSelection,
  type DeadLetterState,
  deadLetterStates,
  type ReplayEntryFailure,
  type ReplayJobKind,
  type ReplayJobState,
  replayJobKinds,
  replayJobStates,
  type StoredDeadLetterFilter,
  type StoredReplaySelection,
} from '../schema/index.js';

/** A filter over the index. Without `state`, purged entries are left out. */
export type DeadLetterFilter = StoredDeadLetterFilter;

/** The conditions of a filter, shared by listing, replay selection and purge. */
export function filterConditions(filter: DeadLetterFilter): SQL[] {
  const c: SQL[] = [];
  if (filter.bus !== undefined) c.push(eq(deadLetters.bus, filter.bus));
  if (filter.target !== undefined) c.push(eq(deadLetters.target, filter.target));
  if (filter.rule !== undefined) c.push(eq(deadLetters.rule, filter.rule));
  if (filter.type !== undefined) c.push(eq(deadLetters.type, filter.type));
  if (filter.source !== undefined) c.push(eq(deadLetters.source, filter.source));
  if (filter.from !== undefined) c.push(gte(deadLetters.deadLetteredAt, new Date(filter.from)));
  if (filter.to !== undefined) c.push(lte(deadLetters.deadLetteredAt, new Date(filter.to)));
  if (filter.error !== undefined) {
    const pattern = `%${filter.error.replace(/[\\%_]/g, '\\$&')}%`;
    c.push(or(ilike(deadLetters.errorMessage, pattern), ilike(deadLetters.errorClass, pattern))!);
  }
  c.push(filter.state === undefined ? ne(deadLetters.state, 'purged') : eq(deadLetters.state, filter.state));
  return c;
}

/** The order replays keep: the order the bus accepted the events in. */
export const replayOrder = [
  asc(deadLetters.acceptedAt),
  sql`${deadLetters.eventSeq} asc nulls last`,
  asc(deadLetters.firstAttemptAt),
  asc(deadLetters.dlqStreamSeq),
  asc(deadLetters.id),
];
