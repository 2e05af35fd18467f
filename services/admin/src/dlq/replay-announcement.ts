import {
  type ArchiveReplayFinishedData,
  type CloudEventRecord,
  type ReplayFinishedData,
  systemEvent,
} from '@fuze/core';
import type { ReplayJobRow } from '@fuze/db';

/**
 * The system event for a replay job that ended (completed or failed): `dev.fuze.replay.finished`
 * for a dead-letter replay, `dev.fuze.archive-replay.finished` for an archive replay. Its id is the
 * job's, so announcing a job twice (a worker that died between announcing and recording the end)
 * is one event.
 */
export function replayJobFinishedEvent(
  job: ReplayJobRow,
  state: 'completed' | 'failed',
  finishedAt: Date,
  error?: string,
): CloudEventRecord {
  const at = finishedAt.toISOString();
  if ('archive' in job.selection) {
    const window = job.selection.archive;
    const progress = job.archive;
    const data: ArchiveReplayFinishedData = {
      jobId: job.id,
      state,
      bus: window.bus,
      from: window.from,
      to: window.to,
      ...(window.rules ? { rules: window.rules } : {}),
      ...(window.targets ? { targets: window.targets } : {}),
      events: job.done + job.failed,
      matched: progress?.matched ?? 0,
      deliveries: progress?.deliveries ?? 0,
      failed: job.failed,
      createdAt: job.createdAt.toISOString(),
      finishedAt: at,
    };
    if (error !== undefined) data.error = error;
    return systemEvent('dev.fuze.archive-replay.finished', job.id, job.id, at, data);
  }
  const data: ReplayFinishedData = {
    jobId: job.id,
    state,
    total: job.total,
    replayed: job.done,
    failed: job.failed,
    createdAt: job.createdAt.toISOString(),
    finishedAt: at,
  };
  if (job.target !== null) data.target = job.target;
  if (error !== undefined) data.error = error;
  return systemEvent('dev.fuze.replay.finished', job.id, job.id, at, data);
}
