import { api } from '../api.js';
import { ErrorNote, ProgressBar } from '../components.js';
import type { ReplayJob } from '../types.js';
import { usePoll } from '../use-poll.js';

const finished = new Set<string>(['completed', 'cancelled', 'failed']);

/** A replay job (dead letters or archive), followed each second until it ends. */
export function ReplayProgress({ jobId }: { jobId: string }) {
  const job = usePoll(
    (signal) => api<ReplayJob>('GET', `/v1/replays/${encodeURIComponent(jobId)}`, undefined, signal),
    1_000,
    [jobId],
    (j) => finished.has(j.state),
  );
  const last = job.value;
  return (
    <div class="replay-job" data-state={last?.state ?? 'pending'}>
      <ErrorNote error={job.error} />
      {last && (
        <>
          <ProgressBar value={last.state === 'completed' ? 1 : last.progress} label={`replay ${jobId}`} />
          <p>
            Replay {jobId}
            {last.dryRun ? ' (dry run)' : ''}: <strong>{last.state}</strong>; {last.done} of {last.total}{' '}
            done, {last.failed} failed, {last.skipped} skipped
          </p>
        </>
      )}
    </div>
  );
}
