import { decodeRulesChangedNotice, type Logger, rulesChangedSubject } from '@fuze/core';
import { type FuzeDb, listBusRevisions } from '@fuze/db';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';

export interface RulesWatcherOptions<T> {
  db: FuzeDb;
  nats: NatsConnection;
  prefix: string;
  /** Reads what the service makes of the stored rules (a snapshot, a target catalog). */
  load(): Promise<T>;
  /**
   * Takes each newly loaded value, never concurrently. A throw keeps the old revisions, so the
   * next notice or poll loads and applies again.
   */
  apply(value: T): Promise<void> | void;
  /**
   * Whether `start()` throws when the first load or apply fails (`required`: a router must not
   * route with no rules) or logs it and leaves the retry to the poll (`retry`, the default).
   */
  firstLoad?: 'required' | 'retry';
  /** Fallback poll of the bus revisions, for notices lost while NATS was away. Default 5 s. */
  pollMs?: number;
  logger: Logger;
}

/**
 * Keeps a service's view of the rules current, the one watcher of rule revisions. A revision
 * notice (`<p>.control.rules`, published right after the commit) reaches every instance within a
 * second; a poll of the bus revisions catches notices lost on the way (core NATS is at most
 * once). Only a revision newer than the applied one loads again. When Postgres is down, the last
 * applied value stays in force: routing and delivery never wait for it.
 */
export class RulesWatcher<T> {
  private applied = new Map<string, number>();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: RulesWatcherOptions<T>) {}

  /** Loads and applies once (see `firstLoad`), then watches. */
  async start(): Promise<void> {
    if (this.options.firstLoad === 'required') await this.loadAndApply();
    this.subscription = this.options.nats.subscribe(rulesChangedSubject(this.options.prefix), {
      callback: (_err, msg) => {
        const notice = decodeRulesChangedNotice(msg.data);
        if (notice === undefined || this.isNewer(new Map(Object.entries(notice.buses)))) void this.reload();
      },
    });
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 5_000);
    this.timer.unref();
    if (this.options.firstLoad !== 'required') await this.reload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
    await this.running;
  }

  /** Loads and applies now, whatever the revisions; a call during a reload runs one more after it. */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reloadOnce();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private isNewer(revisions: ReadonlyMap<string, number>): boolean {
    for (const [bus, revision] of revisions) if (revision > (this.applied.get(bus) ?? 0)) return true;
    return false;
  }

  private async poll(): Promise<void> {
    try {
      if (this.isNewer(await listBusRevisions(this.options.db))) await this.reload();
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot poll rule revisions; keeping the last applied rules');
    }
  }

  private async reloadOnce(): Promise<void> {
    try {
      await this.loadAndApply();
    } catch (err) {
      this.options.logger.warn({ err }, 'cannot load or apply the rules; keeping the last applied ones');
    }
  }

  private async loadAndApply(): Promise<void> {
    // Revisions first: the value loaded after them is at least that new.
    const revisions = await listBusRevisions(this.options.db);
    const value = await this.options.load();
    if (this.stopped) return;
    await this.options.apply(value);
    this.applied = revisions;
    this.options.logger.info({ revisions: Object.fromEntries(revisions) }, 'rules applied');
  }
}
