import type { AdminClient } from '@fuze/core';
import { ProgressBar } from './output/progress-bar.js';

/** A replay job as `GET /v1/replays/:id` shows it (the fields the CLI reads). */
export interface ReplayJob {
  id: string;
  kind: 'dead-letters' | 'archive';
  state: string;
  progress: number;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  failures: Array<{ id: string; reason: string }>;
  error: string | null;
  archive: {
    matched: number;
    deliveries: number;
    byRule: Record<string, number>;
    byTarget: Record<string, number>;
  } | null;
}

const finished = new Set(['completed', 'cancelled', 'failed']);

/**
 * Polls a replay job until it finishes, drawing a progress bar on stderr: entries replayed of the
 * job's total (dead letters), or the share of the window read (archive).
 */
export async function followReplayJob(client: AdminClient, id: string): Promise<ReplayJob> {
  const bar = new ProgressBar(process.stderr);
  for (;;) {
    const job = (await client.request<ReplayJob>('GET', `/v1/replays/${encodeURIComponent(id)}`)).body;
    if (job.kind === 'archive') {
      const failed = job.failed > 0 ? `, ${job.failed} failed` : '';
      bar.show(
        job.progress,
        `${job.done + job.failed} events, ${job.archive?.deliveries ?? 0} deliveries${failed}`,
      );
    } else bar.update(job.done + job.failed, job.total, job.failed);
    if (finished.has(job.state)) {
      bar.end();
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
