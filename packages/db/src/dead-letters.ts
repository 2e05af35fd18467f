import { randomUUID } from 'node:crypto';
import { type DeadLetterRecord, FuzeError } from '@fuze/core';
import { and, asc, count, desc, eq, gte, ilike, inArray, lte, ne, or, type SQL, sql } from 'drizzle-orm';
import type { FuzeDb } from './database.js';
import {
  auditLog,
  type DeadLetterState,
  deadLetters,
  type ReplayEntryFailure,
  replayJobs,
  type StoredDeadLetterFilter,
  type StoredReplaySelection,
} from './schema/index.js';

/**
 * The dead-letter index, replay jobs and the audit log. The records themselves live in the DLQ
 * stream; rows here point at them by stream sequence. Writers of replay jobs NOTIFY
 * {@link REPLAY_NOTIFY_CHANNEL} so idle replay workers start at once instead of at their next poll.
 */
export const REPLAY_NOTIFY_CHANNEL = 'fuze_replay_jobs';
/** At most this many per-entry failures are kept on a job (the count is exact). */
export const MAX_STORED_REPLAY_FAILURES = 100;

export type DeadLetterRow = typeof deadLetters.$inferSelect;
export type ReplayJobRow = typeof replayJobs.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export {
  type DeadLetterState,
  deadLetterStates,
  type ReplayEntryFailure,
  type ReplayJobState,
  replayJobStates,
  type StoredDeadLetterFilter,
  type StoredReplaySelection,
} from './schema/index.js';

/** A filter over the index. Without `state`, purged entries are left out. */
export type DeadLetterFilter = StoredDeadLetterFilter;

// ---------------------------------------------------------------------------------------------
// Indexing

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

// ---------------------------------------------------------------------------------------------
// Reading

function filterConditions(filter: DeadLetterFilter): SQL[] {
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

/** True when the filter narrows anything down (bulk operations refuse an empty one unless told). */
export function isEmptyDeadLetterFilter(filter: DeadLetterFilter): boolean {
  return Object.values(filter).every((v) => v === undefined);
}

/** The order replays keep: the order the bus accepted the events in. */
const replayOrder = [
  asc(deadLetters.acceptedAt),
  sql`${deadLetters.eventSeq} asc nulls last`,
  asc(deadLetters.firstAttemptAt),
  asc(deadLetters.dlqStreamSeq),
  asc(deadLetters.id),
];

/** Newest first, a page at a time; `nextCursor` is absent on the last page. */
export async function listDeadLetters(
  db: FuzeDb,
  filter: DeadLetterFilter,
  page: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<{ items: DeadLetterRow[]; nextCursor: string | undefined }> {
  const limit = Math.min(Math.max(page.limit ?? 100, 1), 1000);
  const conditions = filterConditions(filter);
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor);
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
      rows.length > limit && last ? encodeCursor(last.deadLetteredAt.toISOString(), last.id) : undefined,
  };
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string' &&
      !Number.isNaN(Date.parse(value[0]))
    ) {
      return { at: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  throw new FuzeError('FUZE_INVALID_REQUEST', 'querystring.cursor: not a cursor this API returned', {
    details: { problems: [{ pointer: 'querystring.cursor', message: 'not a cursor this API returned' }] },
  });
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

// ---------------------------------------------------------------------------------------------
// Replay jobs

export interface ReplayJobRequest {
  selection: StoredReplaySelection;
  /** Replay to this target instead of each entry's own (validated by the caller). */
  target?: string | undefined;
  ratePerSecond?: number | undefined;
  force: boolean;
  dryRun: boolean;
  principal: string;
  /** Entries to return as the dry run's sample (default 10). */
  sampleSize?: number;
}

export interface ReplayJobCreated {
  job: ReplayJobRow;
  skipped: { alreadyReplayed: number; inAnotherJob: number };
  /** Dry runs only: the first entries, in replay order. */
  sample: DeadLetterRow[];
}

/**
 * Creates a replay job and claims its entries (state `replaying`), in one transaction, so two
 * jobs never replay the same entry. By ids: every id must exist (404), none may be in another
 * unfinished job (409 FUZE_REPLAY_CONFLICT), none already replayed unless `force` (409
 * FUZE_ALREADY_REPLAYED). By filter: such entries are skipped and counted; when nothing is left
 * for either reason the request is refused with that error. A dry run checks the same and claims
 * nothing: its job is stored already `completed`.
 */
export async function createReplayJob(db: FuzeDb, request: ReplayJobRequest): Promise<ReplayJobCreated> {
  const replayable: DeadLetterState[] = request.force ? ['dead', 'replayed'] : ['dead'];
  return db.transaction(async (tx) => {
    const selected =
      'ids' in request.selection
        ? await checkIds(tx, request.selection.ids, request.force)
        : await countByFilter(tx, request.selection.filter, request.force);
    const eligible = and(selected.where, inArray(deadLetters.state, replayable))!;
    const id = randomUUID();
    const skipped = selected.skipped;
    const base = {
      id,
      selection: request.selection,
      target: request.target ?? null,
      ratePerSecond: request.ratePerSecond ?? null,
      dryRun: request.dryRun,
      force: request.force,
      skipped: skipped.alreadyReplayed + skipped.inAnotherJob,
      createdBy: request.principal,
    };
    if (request.dryRun) {
      const [{ n }] = (await tx.select({ n: count() }).from(deadLetters).where(eligible)) as [{ n: number }];
      const sample = await tx
        .select()
        .from(deadLetters)
        .where(eligible)
        .orderBy(...replayOrder)
        .limit(request.sampleSize ?? 10);
      const [job] = await tx
        .insert(replayJobs)
        .values({ ...base, state: 'completed', total: Number(n), finishedAt: sql`now()` })
        .returning();
      return { job: job!, skipped, sample };
    }
    await tx.insert(replayJobs).values({ ...base, state: 'pending' });
    const claimed = rowsOf<{ n: number }>(
      await tx.execute(sql`
        with claimed as (
          update ${deadLetters}
          set state = 'replaying', replay_job_id = ${id}, last_replay_error = null
          where ${eligible}
          returning 1
        )
        select count(*)::int as n from claimed`),
    );
    const total = Number(claimed[0]?.n ?? 0);
    const [job] = await tx
      .update(replayJobs)
      .set(total === 0 ? { total, state: 'completed', finishedAt: sql`now()` } : { total })
      .where(eq(replayJobs.id, id))
      .returning();
    await tx.insert(auditLog).values({
      principal: request.principal,
      action: 'dlq.replay',
      details: {
        jobId: id,
        selection: request.selection,
        target: request.target ?? null,
        force: request.force,
        ratePerSecond: request.ratePerSecond ?? null,
        total,
        skipped,
      },
    });
    await tx.execute(sql`select pg_notify(${REPLAY_NOTIFY_CHANNEL}, ${id})`);
    return { job: job!, skipped, sample: [] };
  });
}

interface Selected {
  where: SQL;
  skipped: { alreadyReplayed: number; inAnotherJob: number };
}

async function checkIds(db: FuzeDb, ids: readonly string[], force: boolean): Promise<Selected> {
  const unique = [...new Set(ids)];
  const rows = await db
    .select({ id: deadLetters.id, state: deadLetters.state, job: deadLetters.replayJobId })
    .from(deadLetters)
    .where(inArray(deadLetters.id, unique))
    .for('update');
  const found = new Map(rows.map((r) => [r.id, r]));
  const missing = unique.filter((id) => found.get(id) === undefined || found.get(id)!.state === 'purged');
  if (missing.length > 0) {
    throw new FuzeError(
      'FUZE_DEAD_LETTER_NOT_FOUND',
      `no dead letter has the id${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`,
      { details: { missing } },
    );
  }
  const replaying = rows.filter((r) => r.state === 'replaying');
  if (replaying.length > 0) {
    throw new FuzeError(
      'FUZE_REPLAY_CONFLICT',
      `${replaying.length} of these dead letters are being replayed by another job (${[...new Set(replaying.map((r) => r.job))].join(', ')}); wait for it or cancel it`,
      { details: { ids: replaying.map((r) => r.id), jobs: [...new Set(replaying.map((r) => r.job))] } },
    );
  }
  const replayed = rows.filter((r) => r.state === 'replayed');
  if (replayed.length > 0 && !force) {
    throw new FuzeError(
      'FUZE_ALREADY_REPLAYED',
      `${replayed.length} of these dead letters were already replayed successfully; replay with force to send them again`,
      { details: { ids: replayed.map((r) => r.id) } },
    );
  }
  return { where: inArray(deadLetters.id, unique), skipped: { alreadyReplayed: 0, inAnotherJob: 0 } };
}

async function countByFilter(db: FuzeDb, filter: DeadLetterFilter, force: boolean): Promise<Selected> {
  const where = and(...filterConditions(filter))!;
  const counts = await db
    .select({ state: deadLetters.state, n: count() })
    .from(deadLetters)
    .where(where)
    .groupBy(deadLetters.state);
  const of = (state: DeadLetterState) => Number(counts.find((c) => c.state === state)?.n ?? 0);
  const replayable = of('dead') + (force ? of('replayed') : 0);
  const skipped = { alreadyReplayed: force ? 0 : of('replayed'), inAnotherJob: of('replaying') };
  if (replayable === 0 && skipped.alreadyReplayed > 0) {
    throw new FuzeError(
      'FUZE_ALREADY_REPLAYED',
      `all ${skipped.alreadyReplayed} dead letters this filter matches were already replayed successfully; replay with force to send them again`,
      { details: { alreadyReplayed: skipped.alreadyReplayed } },
    );
  }
  if (replayable === 0 && skipped.inAnotherJob > 0) {
    throw new FuzeError(
      'FUZE_REPLAY_CONFLICT',
      `all ${skipped.inAnotherJob} dead letters this filter matches are being replayed by another job`,
      { details: { inAnotherJob: skipped.inAnotherJob } },
    );
  }
  return { where, skipped };
}

export async function getReplayJob(db: FuzeDb, id: string): Promise<ReplayJobRow | undefined> {
  const [row] = await db.select().from(replayJobs).where(eq(replayJobs.id, id)).limit(1);
  return row;
}

/**
 * Cancels a job: entries not yet replayed go back to what they were (`dead`, or `replayed` for a
 * forced replay). Cancelling a cancelled job is a no-op; a finished one is refused (409).
 */
export async function cancelReplayJob(db: FuzeDb, id: string, principal: string): Promise<ReplayJobRow> {
  return db.transaction(async (tx) => {
    const [job] = await tx.select().from(replayJobs).where(eq(replayJobs.id, id)).for('update');
    if (!job) throw replayJobNotFound(id);
    if (job.state === 'cancelled') return job;
    if (job.state === 'completed' || job.state === 'failed') {
      throw new FuzeError('FUZE_REPLAY_JOB_FINISHED', `replay job ${id} has already ${job.state}`, {
        details: { id, state: job.state },
      });
    }
    await releaseEntries(tx, id, null);
    const [cancelled] = await tx
      .update(replayJobs)
      .set({ state: 'cancelled', finishedAt: sql`now()`, claimedBy: null, leaseUntil: null })
      .where(eq(replayJobs.id, id))
      .returning();
    await tx.insert(auditLog).values({
      principal,
      action: 'dlq.replay.cancel',
      details: { jobId: id, done: job.done, failed: job.failed, total: job.total },
    });
    return cancelled!;
  });
}

export function replayJobNotFound(id: string): FuzeError {
  return new FuzeError('FUZE_REPLAY_JOB_NOT_FOUND', `no replay job has the id ${id}`, { details: { id } });
}

/** Entries of a job still `replaying` go back to `dead` (or `replayed` if they were before). */
async function releaseEntries(db: FuzeDb, jobId: string, reason: string | null): Promise<void> {
  await db
    .update(deadLetters)
    .set({
      state: sql`case when ${deadLetters.replayedAt} is null then 'dead' else 'replayed' end`,
      ...(reason === null ? {} : { lastReplayError: reason }),
    })
    .where(and(eq(deadLetters.replayJobId, jobId), eq(deadLetters.state, 'replaying')));
}

/**
 * Claims the oldest unfinished job nobody holds (FOR UPDATE SKIP LOCKED, then a lease), so any
 * number of admin instances share the jobs; a job whose holder died is taken over when its
 * lease runs out.
 */
export async function claimReplayJob(
  db: FuzeDb,
  workerId: string,
  leaseMs: number,
): Promise<ReplayJobRow | undefined> {
  return db.transaction(async (tx) => {
    const [candidate] = await tx
      .select({ id: replayJobs.id })
      .from(replayJobs)
      .where(
        and(
          inArray(replayJobs.state, ['pending', 'running']),
          sql`(${replayJobs.leaseUntil} is null or ${replayJobs.leaseUntil} < now())`,
        ),
      )
      .orderBy(asc(replayJobs.createdAt))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!candidate) return undefined;
    const [job] = await tx
      .update(replayJobs)
      .set({
        state: 'running',
        claimedBy: workerId,
        leaseUntil: sql`now() + ${leaseMs} * interval '1 millisecond'`,
        startedAt: sql`coalesce(${replayJobs.startedAt}, now())`,
      })
      .where(eq(replayJobs.id, candidate.id))
      .returning();
    return job;
  });
}

/** Extends the lease; undefined when the job is no longer this worker's to run (cancelled, taken over). */
export async function renewReplayJob(
  db: FuzeDb,
  jobId: string,
  workerId: string,
  leaseMs: number,
): Promise<ReplayJobRow | undefined> {
  const [job] = await db
    .update(replayJobs)
    .set({ leaseUntil: sql`now() + ${leaseMs} * interval '1 millisecond'` })
    .where(and(eq(replayJobs.id, jobId), eq(replayJobs.claimedBy, workerId), eq(replayJobs.state, 'running')))
    .returning();
  return job;
}

/** The next entries of a job to republish, in the order the bus accepted their events. */
export async function nextReplayEntries(db: FuzeDb, jobId: string, limit: number): Promise<DeadLetterRow[]> {
  return db
    .select()
    .from(deadLetters)
    .where(and(eq(deadLetters.replayJobId, jobId), eq(deadLetters.state, 'replaying')))
    .orderBy(...replayOrder)
    .limit(limit);
}

/**
 * Records the outcome of a page: `replayed` entries (their replay publish was acked) become
 * `replayed`; `failed` ones go back to what they were, with the reason. Applies even if the job
 * was cancelled meanwhile: what was republished was republished.
 */
export async function settleReplayEntries(
  db: FuzeDb,
  jobId: string,
  outcome: { replayed: readonly string[]; failed: readonly ReplayEntryFailure[] },
): Promise<void> {
  await db.transaction(async (tx) => {
    let done = 0;
    if (outcome.replayed.length > 0) {
      const rows = await tx
        .update(deadLetters)
        .set({
          state: 'replayed',
          replayedAt: sql`now()`,
          replayCount: sql`${deadLetters.replayCount} + 1`,
          lastReplayError: null,
        })
        .where(
          and(
            inArray(deadLetters.id, [...outcome.replayed]),
            eq(deadLetters.replayJobId, jobId),
            inArray(deadLetters.state, ['replaying', 'dead', 'replayed']),
          ),
        )
        .returning({ id: deadLetters.id });
      done = rows.length;
    }
    for (const failure of outcome.failed) {
      await tx
        .update(deadLetters)
        .set({
          state: sql`case when ${deadLetters.replayedAt} is null then 'dead' else 'replayed' end`,
          lastReplayError: failure.reason,
        })
        .where(
          and(
            eq(deadLetters.id, failure.id),
            eq(deadLetters.replayJobId, jobId),
            eq(deadLetters.state, 'replaying'),
          ),
        );
    }
    const failures = JSON.stringify(outcome.failed);
    await tx
      .update(replayJobs)
      .set({
        done: sql`${replayJobs.done} + ${done}`,
        failed: sql`${replayJobs.failed} + ${outcome.failed.length}`,
        failures: sql`(
          select coalesce(jsonb_agg(e.value order by e.ord), '[]'::jsonb)
          from jsonb_array_elements(${replayJobs.failures} || ${failures}::jsonb) with ordinality e(value, ord)
          where e.ord <= ${MAX_STORED_REPLAY_FAILURES})`,
      })
      .where(eq(replayJobs.id, jobId));
  });
}

/** Ends a running job as completed (nothing left to replay). */
export async function finishReplayJob(db: FuzeDb, jobId: string, workerId: string): Promise<void> {
  await db
    .update(replayJobs)
    .set({ state: 'completed', finishedAt: sql`now()`, claimedBy: null, leaseUntil: null })
    .where(
      and(eq(replayJobs.id, jobId), eq(replayJobs.claimedBy, workerId), eq(replayJobs.state, 'running')),
    );
}

/** Ends a job that cannot go on; its unreplayed entries are released. */
export async function failReplayJob(db: FuzeDb, jobId: string, error: string): Promise<void> {
  await db.transaction(async (tx) => {
    await releaseEntries(tx, jobId, error);
    await tx
      .update(replayJobs)
      .set({ state: 'failed', error, finishedAt: sql`now()`, claimedBy: null, leaseUntil: null })
      .where(and(eq(replayJobs.id, jobId), inArray(replayJobs.state, ['pending', 'running'])));
  });
}

/** Gives a job back (on a graceful stop) so another instance, or this one restarted, resumes it at once. */
export async function releaseReplayJob(db: FuzeDb, jobId: string, workerId: string): Promise<void> {
  await db
    .update(replayJobs)
    .set({ claimedBy: null, leaseUntil: null })
    .where(and(eq(replayJobs.id, jobId), eq(replayJobs.claimedBy, workerId)));
}

// ---------------------------------------------------------------------------------------------
// Purge and audit

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

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
