import type { DeadLetterRecord } from '@fuze/core';
import type { DeadLetterFilter, DeadLetterRow, ReplayJobRow } from '@fuze/db';
import type { FilterQuery } from './dlq-schemas.js';

/** How the API shows dead letters, decoded records and replay jobs. */

export function deadLetterView(row: DeadLetterRow) {
  return {
    id: row.id,
    bus: row.bus,
    rule: row.rule,
    target: row.target,
    type: row.type,
    source: row.source,
    eventId: row.eventId,
    subject: row.subject,
    partitionKey: row.partitionKey,
    stage: row.stage,
    errorClass: row.errorClass,
    errorMessage: row.errorMessage,
    httpStatus: row.httpStatus,
    attempts: row.attempts,
    firstAttemptAt: row.firstAttemptAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt.toISOString(),
    deadLetteredAt: row.deadLetteredAt.toISOString(),
    acceptedAt: row.acceptedAt.toISOString(),
    eventSeq: row.eventSeq,
    traceId: row.traceId,
    dlqSeq: row.dlqStreamSeq,
    state: row.state,
    replayJobId: row.replayJobId,
    replayedAt: iso(row.replayedAt),
    replayCount: row.replayCount,
    lastReplayError: row.lastReplayError,
    replayOf: row.replayOf === null ? null : { deadLetterId: row.replayOf, jobId: row.replayOfJob ?? '' },
    purgedAt: iso(row.purgedAt),
  };
}

/**
 * The record's body for display: parsed JSON when the content type is JSON, text when it is
 * UTF-8, else base64 as stored.
 */
export function decodedBody(record: DeadLetterRecord): {
  contentType: string;
  encoding: 'json' | 'text' | 'base64';
  value: unknown;
} {
  const bytes = Buffer.from(record.body, 'base64');
  const contentType = record.contentType;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { contentType, encoding: 'base64', value: record.body };
  }
  if (/json/i.test(contentType)) {
    try {
      return { contentType, encoding: 'json', value: JSON.parse(text) };
    } catch {
      // shown as text
    }
  }
  return { contentType, encoding: 'text', value: text };
}

export function replayJobView(job: ReplayJobRow) {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    progress: progressOf(job),
    total: job.total,
    done: job.done,
    failed: job.failed,
    skipped: job.skipped,
    dryRun: job.dryRun,
    force: job.force,
    target: job.target,
    ratePerSecond: job.ratePerSecond,
    selection: job.selection,
    failures: job.failures,
    archive: job.archive,
    error: job.error,
    createdBy: job.createdBy,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/**
 * How far a job is, from 0 to 1: its entries settled (dead letters), or the share of the window's
 * stream sequences read (archive; events of other buses in the range count as read).
 */
function progressOf(job: ReplayJobRow): number {
  if (job.state === 'completed') return 1;
  if (job.kind === 'archive') {
    const a = job.archive;
    if (!a || a.lastSeq < a.firstSeq) return 0;
    return Math.min(1, Math.max(0, (a.cursor - a.firstSeq + 1) / (a.lastSeq - a.firstSeq + 1)));
  }
  return job.total === 0 ? 0 : Math.min(1, (job.done + job.failed) / job.total);
}

/** The filter fields of a query string or request body; anything else is dropped. */
export function filterOf(query: FilterQuery): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  for (const key of ['target', 'rule', 'bus', 'type', 'source', 'from', 'to', 'error'] as const) {
    if (query[key] !== undefined) filter[key] = query[key];
  }
  if (query.state !== undefined) filter.state = query.state;
  return filter;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
