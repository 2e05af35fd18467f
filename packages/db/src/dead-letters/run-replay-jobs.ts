import { FuzeError } from '@fuze/core';
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { auditLog, deadLetters, type ReplayEntryFailure, replayJobs } from '../schema/index.js';
import { type DeadLetterRow, type ReplayJobRow, replayOrder } from './dead-letter-rows.js';

/** At most this many per-entry failures are kept on a job (the count is exact). */
export const MAX_STORED_REPLAY_FAILURES = 100;

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
    await tx
      .update(replayJobs)
      .set({
        done: sql`${replayJobs.done} + ${done}`,
        failed: sql`${replayJobs.failed} + ${outcome.failed.length}`,
        failures: withFailures(outcome.failed),
      })
      .where(eq(replayJobs.id, jobId));
  });
}

/** The job's stored failures with these appended, up to MAX_STORED_REPLAY_FAILURES. */
export function withFailures(failed: readonly ReplayEntryFailure[]): SQL {
  return sql`(
    select coalesce(jsonb_agg(e.value order by e.ord), '[]'::jsonb)
    from jsonb_array_elements(${replayJobs.failures} || ${JSON.stringify(failed)}::jsonb) with ordinality e(value, ord)
    where e.ord <= ${MAX_STORED_REPLAY_FAILURES})`;
}

/**
 * Ends a running job as completed (nothing left to replay). An archive replay learns its total
 * only now: the events it read.
 */
export async function finishReplayJob(db: FuzeDb, jobId: string, workerId: string): Promise<void> {
  await db
    .update(replayJobs)
    .set({
      state: 'completed',
      finishedAt: sql`now()`,
      claimedBy: null,
      leaseUntil: null,
      total: sql`case when ${replayJobs.kind} = 'archive' then ${replayJobs.done} + ${replayJobs.failed} else ${replayJobs.total} end`,
    })
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
