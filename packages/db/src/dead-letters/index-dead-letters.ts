import type { DeadLetterRecord } from '@fuze/core';
import { sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { deadLetters } from '../schema/index.js';

/** One record read from the DLQ stream, and where it is. */
export interface StreamedDeadLetter {
  record: DeadLetterRecord;
  streamSeq: number;
}

/**
 * Upserts records into the index in one statement. Idempotent: a record already indexed is left
 * as it is (its replay state included), unless it was purged and this is a new copy of it in the
 * stream (same id dead-lettered again), which makes it `dead` again.
 */
export async function indexDeadLetters(db: FuzeDb, entries: readonly StreamedDeadLetter[]): Promise<void> {
  const byId = new Map<string, StreamedDeadLetter>();
  for (const entry of entries) if (!byId.has(entry.record.id)) byId.set(entry.record.id, entry);
  if (byId.size === 0) return;
  const rows = [...byId.values()].map(indexRowOf);
  const excluded = (column: string) => sql.raw(`excluded.${column}`);
  await db
    .insert(deadLetters)
    .values(rows)
    .onConflictDoUpdate({
      target: deadLetters.id,
      set: {
        bus: excluded('bus'),
        rule: excluded('rule'),
        target: excluded('target'),
        type: excluded('type'),
        source: excluded('source'),
        eventId: excluded('event_id'),
        subject: excluded('subject'),
        partitionKey: excluded('partition_key'),
        stage: excluded('stage'),
        errorClass: excluded('error_class'),
        errorMessage: excluded('error_message'),
        httpStatus: excluded('http_status'),
        attempts: excluded('attempts'),
        firstAttemptAt: excluded('first_attempt_at'),
        lastAttemptAt: excluded('last_attempt_at'),
        deadLetteredAt: excluded('dead_lettered_at'),
        acceptedAt: excluded('accepted_at'),
        eventSeq: excluded('event_seq'),
        traceId: excluded('trace_id'),
        dlqStreamSeq: excluded('dlq_stream_seq'),
        replayOf: excluded('replay_of'),
        replayOfJob: excluded('replay_of_job'),
        state: 'dead',
        replayJobId: null,
        replayedAt: null,
        lastReplayError: null,
        purgedAt: null,
        indexedAt: sql`now()`,
      },
      setWhere: sql`${deadLetters.state} = 'purged' and ${deadLetters.dlqStreamSeq} <> excluded.dlq_stream_seq`,
    });
}

function indexRowOf({ record, streamSeq }: StreamedDeadLetter): typeof deadLetters.$inferInsert {
  const a = record.attributes;
  const f = record.failure;
  return {
    id: record.id,
    bus: record.bus,
    rule: record.rule,
    target: record.target,
    type: a.type ?? '',
    source: a.source ?? '',
    eventId: a.id ?? '',
    subject: a.subject ?? null,
    partitionKey: record.partitionKey ?? null,
    stage: f.stage,
    errorClass: f.errorClass,
    errorMessage: f.message,
    httpStatus: f.httpStatus ?? null,
    attempts: f.attempts,
    firstAttemptAt: new Date(f.firstAttemptAt),
    lastAttemptAt: new Date(f.lastAttemptAt),
    deadLetteredAt: new Date(record.deadLetteredAt),
    acceptedAt: new Date(record.acceptedAt),
    eventSeq: record.eventSeq ?? null,
    traceId: traceIdOf(record.traceparent),
    dlqStreamSeq: streamSeq,
    replayOf: record.replay?.deadLetterId ?? null,
    replayOfJob: record.replay?.jobId ?? null,
  };
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`). */
function traceIdOf(traceparent: string | undefined): string | null {
  const match = traceparent ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent) : null;
  return match ? match[1]! : null;
}
