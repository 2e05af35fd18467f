import type { Logger } from '@fuze/core';
import type { KV } from '@nats-io/kv';

export interface WorkerReporterOptions {
  /** The lease bucket: its TTL drops the report of a worker that died. */
  kv: Pick<KV, 'put'>;
  /** Where this worker's report goes (one key per worker). */
  key: string;
  /**
   * The report, made at each interval from what was counted since the last one (`seconds`
   * long); the reporter resets nothing, the caller does.
   */
  report(seconds: number): unknown;
  /** Default 2 s (under the lease bucket's 5 s TTL). */
  intervalMs?: number;
  logger: Logger;
}

/**
 * Puts one worker's report in the lease bucket every interval, for the admin API to sum over the
 * workers alive (a worker gone stops writing and its key expires). The one mechanism behind the
 * targets' and the routers' live figures.
 */
export class WorkerReporter {
  private lastReport = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WorkerReporterOptions) {}

  start(): void {
    this.lastReport = Date.now();
    this.timer ??= setInterval(() => void this.put(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async put(): Promise<void> {
    const now = Date.now();
    const report = this.options.report(Math.max(0.001, (now - this.lastReport) / 1000));
    this.lastReport = now;
    await this.options.kv
      .put(this.options.key, JSON.stringify(report))
      .catch((err: unknown) =>
        this.options.logger.debug({ err, key: this.options.key }, 'cannot put a worker report'),
      );
  }
}

/** A count over `seconds` as a rate per second, to one decimal. */
export function perSecond(count: number, seconds: number): number {
  return Math.round((count / seconds) * 10) / 10;
}

/** A figure summed over the workers' reports (absent counts as 0), to one decimal. */
export function sumOf<T>(reports: readonly T[], read: (report: T) => number | undefined): number {
  return Math.round(reports.reduce((n, r) => n + (read(r) ?? 0), 0) * 10) / 10;
}

/** Every worker's latest report under `pattern` (e.g. `stats.*.*`), with its key. */
export async function readWorkerReports<T>(
  kv: KV,
  pattern: string,
): Promise<Array<{ key: string; report: T }>> {
  const keys: string[] = [];
  for await (const key of await kv.keys(pattern)) keys.push(key);
  const entries = await Promise.all(keys.map((key) => kv.get(key)));
  return entries.flatMap((entry) =>
    entry && entry.operation === 'PUT' ? [{ key: entry.key, report: entry.json() as T }] : [],
  );
}
