import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { REPLAY_NOTIFY_CHANNEL } from '../dead-letters/create-replay-job.js';
import type { ReplayJobRow } from '../dead-letters/dead-letter-rows.js';
import { withFailures } from '../dead-letters/run-replay-jobs.js';
import {
  type ArchiveCounts,
  type ArchiveReplayProgress,
  type ArchiveWindow,
  auditLog,
  type ReplayEntryFailure,
  replayJobs,
} from '../schema/index.js';

export interface ArchiveReplayRequest {
  window: ArchiveWindow;
  ratePerSecond?: number | undefined;
  dryRun: boolean;
  principal: string;
}

/**
 * Creates an archive replay job (kind `archive`), for the replay worker of any admin instance to
 * run; a dry run is a job too, which counts and publishes nothing. The window was checked by the
 * caller (rules, targets, retention).
 */
export async function createArchiveReplayJob(
  db: FuzeDb,
  request: ArchiveReplayRequest,
): Promise<ReplayJobRow> {
  return db.transaction(async (tx) => {
    const id = randomUUID();
    const [job] = await tx
      .insert(replayJobs)
      .values({
        id,
        kind: 'archive',
        selection: { archive: request.window },
        ratePerSecond: request.ratePerSecond ?? null,
        dryRun: request.dryRun,
        state: 'pending',
        createdBy: request.principal,
      })
      .returning();
    if (!request.dryRun) {
      await tx.insert(auditLog).values({
        principal: request.principal,
        action: 'archive.replay',
        details: { jobId: id, ...request.window, ratePerSecond: request.ratePerSecond ?? null },
      });
    }
    await tx.execute(sql`select pg_notify(${REPLAY_NOTIFY_CHANNEL}, ${id})`);
    return job!;
  });
}

/** What one page of an archive replay read and routed. */
export interface ArchivePage extends ArchiveCounts {
  /** The page's last events-stream sequence: the job resumes after it. */
  cursor: number;
  /** Events of the bus read (including those that failed). */
  events: number;
  failed: ReplayEntryFailure[];
}

/** Records where a job starts (its first run); a resumed job keeps what it has. */
export async function startArchiveReplay(
  db: FuzeDb,
  jobId: string,
  workerId: string,
  position: Pick<ArchiveReplayProgress, 'firstSeq' | 'lastSeq' | 'cursor'>,
): Promise<ReplayJobRow | undefined> {
  const progress: ArchiveReplayProgress = {
    ...position,
    matched: 0,
    deliveries: 0,
    byRule: {},
    byTarget: {},
  };
  const [job] = await db
    .update(replayJobs)
    .set({ archive: sql`coalesce(${replayJobs.archive}, ${JSON.stringify(progress)}::jsonb)` })
    .where(and(eq(replayJobs.id, jobId), eq(replayJobs.claimedBy, workerId)))
    .returning();
  return job;
}

/**
 * Stores a page once all its publishes were acked: the cursor moves past it and its counts are
 * added. Applies even if the job was cancelled meanwhile: what was published was published.
 */
export async function recordArchivePage(db: FuzeDb, jobId: string, page: ArchivePage): Promise<void> {
  await db.transaction(async (tx) => {
    const [job] = await tx
      .select({ archive: replayJobs.archive })
      .from(replayJobs)
      .where(eq(replayJobs.id, jobId))
      .for('update');
    if (!job?.archive) return;
    const progress = job.archive;
    const next: ArchiveReplayProgress = {
      ...progress,
      cursor: Math.max(progress.cursor, page.cursor),
      matched: progress.matched + page.matched,
      deliveries: progress.deliveries + page.deliveries,
      byRule: added(progress.byRule, page.byRule),
      byTarget: added(progress.byTarget, page.byTarget),
    };
    await tx
      .update(replayJobs)
      .set({
        archive: next,
        done: sql`${replayJobs.done} + ${page.events - page.failed.length}`,
        failed: sql`${replayJobs.failed} + ${page.failed.length}`,
        failures: withFailures(page.failed),
      })
      .where(eq(replayJobs.id, jobId));
  });
}

function added(into: Record<string, number>, counts: Record<string, number>): Record<string, number> {
  const sum = { ...into };
  for (const [name, n] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + n;
  return sum;
}
