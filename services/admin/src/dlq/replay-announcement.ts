import { type CloudEventRecord, type ReplayFinishedData, systemEvent } from '@fuze/core';
import type { ReplayJobRow } from '@fuze/db';

/**
 * `dev.fuze.replay.finished` for a dead-letter replay job that ended (completed or failed); its id
 * is the job's, so announcing a job twice (a worker that died between announcing and recording
 * the end) is one event.
 */
export function replayFinishedEvent(
  job: ReplayJobRow,
  state: ReplayFinishedData['state'],
  finishedAt: Date,
  error?: string,
): CloudEventRecord {
  const data: ReplayFinishedData = {
    jobId: job.id,
    state,
    total: job.total,
    replayed: job.done,
    failed: job.failed,
    createdAt: job.createdAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
  if (job.target !== null) data.target = job.target;
  if (error !== undefined) data.error = error;
  return systemEvent('dev.fuze.replay.finished', job.id, job.id, data.finishedAt, data);
}
