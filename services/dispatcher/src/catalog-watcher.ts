import { controlSubject, type Logger } from '@fuze/core';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { catalogFingerprint, type TargetCatalog } from './target-catalog.js';

export interface CatalogWatcherOptions {
  nc: NatsConnection;
  streamPrefix: string;
  load(): Promise<TargetCatalog>;
  /** Called with each catalog that differs from the previous one (never concurrently). */
  onChange(catalog: TargetCatalog): Promise<void>;
  /** Fallback poll, for notices lost while NATS was away. Default 10 s. */
  pollIntervalMs?: number;
  logger: Logger;
}

/**
 * Keeps the target catalog current: reloads on each rule-revision notice (`<p>.control.rules`,
 * published right after a commit) and every `pollIntervalMs`. Postgres stays off the delivery
 * path: when a reload fails, the last catalog stays in force and the next notice or poll retries.
 */
export class CatalogWatcher {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private fingerprint: string | undefined;
  private stopped = false;

  constructor(private readonly options: CatalogWatcherOptions) {}

  /** Loads once (a failure is logged, not thrown), then watches. */
  async start(): Promise<void> {
    this.subscription = this.options.nc.subscribe(controlSubject(this.options.streamPrefix, 'rules'), {
      callback: () => void this.refresh(),
    });
    this.timer = setInterval(() => void this.refresh(), this.options.pollIntervalMs ?? 10_000);
    await this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    await this.running;
  }

  /** Reloads now; a request during a reload runs one more right after it. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reloadOnce().catch((err: unknown) =>
          this.options.logger.error({ err }, 'applying the targets failed; the next reload retries'),
        );
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    let catalog: TargetCatalog;
    try {
      catalog = await this.options.load();
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot load the targets; keeping the last ones');
      return;
    }
    const fingerprint = catalogFingerprint(catalog);
    if (fingerprint === this.fingerprint || this.stopped) return;
    await this.options.onChange(catalog);
    this.fingerprint = fingerprint; // only once applied: a failed apply is tried again at the next reload
  }
}
