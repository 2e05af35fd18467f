import { randomUUID } from 'node:crypto';
import { FuzeError } from '@fuze/core';
import { and, count, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { FuzeDb } from '../database.js';
import { rowsOf } from '../raw-results.js';
import {
  auditLog,
  type DeadLetterSelection,
  type DeadLetterState,
  deadLetters,
  replayJobs,
} from '../schema/index.js';
import {
  type DeadLetterFilter,
  type DeadLetterRow,
  filterConditions,
  type ReplayJobRow,
  replayOrder,
} from './dead-letter-rows.js';

/**
 * Writers of replay jobs NOTIFY this channel so idle replay workers start at once instead of at
 * their next poll.
 */
export const REPLAY_NOTIFY_CHANNEL = 'fuze_replay_jobs';

export interface ReplayJobRequest {
  selection: DeadLetterSelection;
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
