import { randomUUID } from 'node:crypto';
import type { DeadLetterRecord, EventRouting, Logger, ReplayFinishedData, SystemEventType } from '@fuze/core';
import { type Clock, decodeDeadLetterMessage, encodeEventMessage, systemBus, systemClock } from '@fuze/core';
import {
  claimReplayJob,
  type Database,
  type DeadLetterRow,
  failReplayJob,
  finishReplayJob,
  getReplayJob,
  nextReplayEntries,
  REPLAY_NOTIFY_CHANNEL,
  type ReplayEntryFailure,
  type ReplayJobRow,
  releaseReplayJob,
  renewReplayJob,
  settleReplayEntries,
} from '@fuze/db';
import type { JetStreamManager, Publisher, PublishRequest } from './jetstream.js';
import { replayFinishedEvent } from './replay-announcement.js';
import { ReplayEntryError, replayPublication } from './replay-publication.js';
import { publishReplay } from './replay-trace.js';
import { loadTargetCatalog } from './target-catalog.js';

/** The job as a whole cannot go on (not one entry): it ends `failed`. */
class ReplayJobError extends Error {
  override readonly name = 'ReplayJobError';
}

export interface ReplayWorkerOptions {
  database: Database;
  jsm: JetStreamManager;
  publisher: Publisher;
  /** FUZE_STREAM_PREFIX */
  prefix: string;
  /** The deployment's routing (`ServiceContext.routing`). */
  routing: EventRouting;
  /** `<P>_DLQ`: where the records are read from. */
  dlqStream: string;
  logger: Logger;
  /** FUZE_SYSTEM_EVENTS: whether a job that ends announces it (`dev.fuze.replay.finished`). */
  systemEvents?: ReadonlySet<SystemEventType>;
  /** Paces rate-limited jobs (default: the system clock). */
  clock?: Clock;
  /** Entries republished per page at most (default 100; a rate limit makes pages smaller). */
  pageSize?: number;
  /** How long a claimed job stays this worker's without a renewal (default 30 s). */
  leaseMs?: number;
  /** Looks for jobs this often even without a notification (default 5 s). */
  pollMs?: number;
}

export interface RunningReplayWorker {
  /** Looks for work now (a job was just created in this process). */
  wake(): void;
  /** Finishes the page in flight, gives the job back for another instance to resume, and stops. */
  stop(): Promise<void>;
}

/**
 * Runs replay jobs: claims one (any number of admin instances share them; see claimReplayJob),
 * then pages through its entries in the order the bus accepted their events, republishes each to
 * DELIVERY, and marks a page `replayed` only once all its publishes were acked. A crash replays
 * the unfinished page again under the same Nats-Msg-Ids, which JetStream deduplicates.
 */
export async function startReplayWorker(options: ReplayWorkerOptions): Promise<RunningReplayWorker> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 5_000;
  const pageSize = options.pageSize ?? 100;
  const workerId = `admin-${randomUUID()}`;
  const db = options.database.db;
  const stopping = new AbortController();
  let wakeup = new AbortController();
  const wake = () => wakeup.abort();
  stopping.signal.addEventListener('abort', wake, { once: true });

  const listener = await options.database.listen(REPLAY_NOTIFY_CHANNEL, wake).catch((err: unknown) => {
    logger.warn({ err }, 'cannot LISTEN for replay jobs; polling for them instead');
    return undefined;
  });

  const idle = async () => {
    const current = wakeup;
    await systemClock.sleep(pollMs, current.signal);
    if (current.signal.aborted) wakeup = new AbortController();
  };

  /** Publishes the job's end before it is recorded, so a crash between the two repeats the event (deduplicated by job id), never loses it. */
  const announceEnd = async (jobId: string, state: ReplayFinishedData['state'], error?: string) => {
    if (!options.systemEvents?.has('dev.fuze.replay.finished')) return;
    const row = await getReplayJob(db, jobId);
    if (!row || row.dryRun) return;
    const event = replayFinishedEvent(row, state, new Date(), error);
    await options.publisher.publish(encodeEventMessage(options.prefix, systemBus, event, options.routing));
  };

  const runJob = async (job: ReplayJobRow): Promise<void> => {
    const log = logger.child({ replayJob: job.id });
    log.info({ total: job.total, done: job.done }, 'replay job running');
    const rate = job.ratePerSecond ?? undefined;
    const size = rate === undefined ? pageSize : Math.max(1, Math.min(pageSize, rate));
    const pacingStart = clock.now();
    let published = 0;
    let failures = 0;
    const stillOurs = async () => {
      if (await renewReplayJob(db, job.id, workerId, leaseMs)) return true;
      log.info('replay job cancelled or taken over; leaving it');
      return false;
    };
    while (!stopping.signal.aborted) {
      try {
        if (!(await stillOurs())) return;
        const entries = await nextReplayEntries(db, job.id, size);
        if (entries.length === 0) {
          await announceEnd(job.id, 'completed');
          await finishReplayJob(db, job.id, workerId);
          log.info('replay job completed');
          return;
        }
        if (rate !== undefined) {
          // At most `rate` per second: this page waits until the ones before it have had their time.
          const wait = pacingStart + (published * 1000) / rate - clock.now();
          if (wait > 0) {
            await clock.sleep(wait, stopping.signal);
            if (stopping.signal.aborted) break;
            if (!(await stillOurs())) return;
          }
        }
        const outcome = await replayPage(job, entries);
        await settleReplayEntries(db, job.id, outcome);
        published += outcome.replayed.length;
        failures = 0;
      } catch (err) {
        if (err instanceof ReplayJobError) {
          log.error({ err }, 'replay job failed');
          await announceEnd(job.id, 'failed', err.message).catch((e: unknown) =>
            log.warn({ err: e }, 'cannot announce the failed replay job on the system bus'),
          );
          await failReplayJob(db, job.id, err.message).catch((e: unknown) =>
            log.error({ err: e }, 'cannot fail the job'),
          );
          return;
        }
        // NATS or Postgres unavailable: the page stays claimed and is tried again.
        failures++;
        log.warn({ err }, 'replay page failed; retrying');
        await systemClock.sleep(Math.min(5_000, 200 * 2 ** Math.min(failures, 5)), stopping.signal);
      }
    }
    await releaseReplayJob(db, job.id, workerId).catch(() => {});
  };

  const replayPage = async (
    job: ReplayJobRow,
    entries: DeadLetterRow[],
  ): Promise<{ replayed: string[]; failed: ReplayEntryFailure[] }> => {
    const catalog = await loadTargetCatalog(db);
    if (job.target !== null && !catalog.hasTarget(job.target)) {
      throw new ReplayJobError(`the target ${job.target} is no longer defined by any rule`);
    }
    const records = await Promise.all(
      entries.map((entry) => options.jsm.streams.getMessage(options.dlqStream, { seq: entry.dlqStreamSeq })),
    );
    const failed: ReplayEntryFailure[] = [];
    const publishes: Array<{
      id: string;
      request: PublishRequest;
      record: DeadLetterRecord;
      target: string;
    }> = [];
    entries.forEach((entry, i) => {
      const stored = records[i];
      try {
        if (!stored)
          throw new ReplayEntryError('the record is no longer in the DLQ stream (expired or deleted)');
        const record = decodeDeadLetterMessage(stored.data);
        if (record.id !== entry.id) {
          throw new ReplayEntryError(
            `DLQ sequence ${entry.dlqStreamSeq} holds another record (${record.id})`,
          );
        }
        publishes.push({
          id: entry.id,
          record,
          target: job.target ?? record.target,
          request: replayPublication(record, {
            prefix: options.prefix,
            routing: options.routing,
            jobId: job.id,
            target: job.target ?? undefined,
            catalog,
          }),
        });
      } catch (err) {
        failed.push({ id: entry.id, reason: (err as Error).message });
      }
    });
    // The publisher keeps call order, so each key's entries reach DELIVERY in their original order.
    await Promise.all(
      publishes.map((p) => publishReplay(options.publisher, p.request, p.record, job.id, p.target)),
    );
    return { replayed: publishes.map((p) => p.id), failed };
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let job: ReplayJobRow | undefined;
      try {
        job = await claimReplayJob(db, workerId, leaseMs);
      } catch (err) {
        logger.warn({ err }, 'cannot look for replay jobs (Postgres down?)');
      }
      if (job) await runJob(job).catch((err: unknown) => logger.error({ err }, 'replay job crashed'));
      else await idle();
    }
  })();

  return {
    wake,
    async stop() {
      stopping.abort();
      await loop;
      await listener?.unlisten().catch(() => {});
    },
  };
}
