import { randomUUID } from 'node:crypto';
import type { EventRouting, Logger, SystemEventType } from '@fuze/core';
import { type Clock, encodeEventMessage, retryDelayMs, systemBus, systemClock } from '@fuze/core';
import {
  claimReplayJob,
  type Database,
  failReplayJob,
  finishReplayJob,
  getReplayJob,
  REPLAY_NOTIFY_CHANNEL,
  type ReplayJobRow,
  releaseReplayJob,
  renewReplayJob,
} from '@fuze/db';
import { type ArchivePagesDeps, openArchivePages } from '../archive/archive-pages.js';
import { deadLetterPages } from './dead-letter-pages.js';
import type { JetStreamManager, Publisher } from './jetstream.js';
import { replayJobFinishedEvent } from './replay-announcement.js';
import { ReplayJobError, type ReplayPages } from './replay-pages.js';

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
  /** What archive replays read the events stream with. */
  archive: Omit<ArchivePagesDeps, 'db' | 'publisher' | 'prefix' | 'workerId'>;
  logger: Logger;
  /** FUZE_SYSTEM_EVENTS: whether a job that ends announces it (`dev.fuze.replay.finished`, `dev.fuze.archive-replay.finished`). */
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
 * Runs replay jobs, dead-letter and archive alike: claims one (any number of admin instances share
 * them; see claimReplayJob), then replays it page by page (ReplayPages), paced by its rate, while
 * renewing its lease; a job cancelled or taken over is left at once. A job given back (a stop) or
 * whose worker died is resumed after its last stored page.
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
  const announceEnd = async (jobId: string, state: 'completed' | 'failed', error?: string) => {
    const row = await getReplayJob(db, jobId);
    if (!row || row.dryRun) return;
    const event = replayJobFinishedEvent(row, state, new Date(), error);
    if (!options.systemEvents?.has(event.type as SystemEventType)) return;
    await options.publisher.publish(encodeEventMessage(options.prefix, systemBus, event, options.routing));
  };

  const openPages = async (job: ReplayJobRow): Promise<ReplayPages> =>
    job.kind === 'archive'
      ? openArchivePages(job, {
          ...options.archive,
          db,
          publisher: options.publisher,
          prefix: options.prefix,
          workerId,
        })
      : deadLetterPages(job, { ...options, db });

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
    let pages: ReplayPages | undefined;
    const closePages = async () => {
      await pages?.close().catch((err: unknown) => log.warn({ err }, 'cannot close the replay pages'));
      pages = undefined;
    };
    try {
      while (!stopping.signal.aborted) {
        try {
          if (!(await stillOurs())) return;
          pages ??= await openPages(job);
          const page = await pages.take(size);
          if (page === undefined) {
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
          await page.replay();
          published += page.size;
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
          // NATS or Postgres unavailable: the page is not stored, and the pages start again after
          // the last stored one.
          failures++;
          log.warn({ err }, 'replay page failed; retrying');
          await closePages();
          await systemClock.sleep(retryDelayMs(failures + 1, 200, 5_000), stopping.signal);
        }
      }
    } finally {
      await closePages();
    }
    await releaseReplayJob(db, job.id, workerId).catch(() => {});
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
