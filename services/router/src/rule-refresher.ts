import { controlSubject, type Logger } from '@fuze/core';
import { type FuzeDb, listBusRevisions } from '@fuze/db';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { loadRuleSnapshot, type RuleSnapshot, snapshotRevisions } from './rule-book.js';

/** What `fuze apply` announces on `<p>.control.rules` right after its transaction commits. */
export interface RulesChangedNotice {
  buses: Record<string, number>;
}

/**
 * Keeps the router's rule snapshot current: reloads on a revision notice (so a change reaches
 * every router within a second) and polls revisions as a fallback for lost notices (core NATS
 * is at-most-once). If Postgres is down, routing goes on with the last snapshot.
 */
export class RuleRefresher {
  private snapshot: RuleSnapshot = new Map();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;

  constructor(
    private readonly deps: {
      db: FuzeDb;
      nats: NatsConnection;
      prefix: string;
      logger: Logger;
      pollMs?: number;
    },
  ) {}

  current(): RuleSnapshot {
    return this.snapshot;
  }

  async start(): Promise<void> {
    this.snapshot = await loadRuleSnapshot(this.deps.db, this.deps.logger);
    this.subscription = this.deps.nats.subscribe(controlSubject(this.deps.prefix, 'rules'), {
      callback: (_err, msg) => {
        try {
          const notice = msg.json<RulesChangedNotice>();
          if (this.isNewer(new Map(Object.entries(notice.buses)))) void this.reload();
        } catch {
          void this.reload();
        }
      },
    });
    this.timer = setInterval(() => void this.poll(), this.deps.pollMs ?? 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.subscription?.unsubscribe();
  }

  private isNewer(revisions: Map<string, number>): boolean {
    const have = snapshotRevisions(this.snapshot);
    for (const [bus, revision] of revisions) if (revision > (have.get(bus) ?? 0)) return true;
    return false;
  }

  private async poll(): Promise<void> {
    try {
      if (this.isNewer(await listBusRevisions(this.deps.db))) await this.reload();
    } catch (err) {
      this.deps.logger.warn({ err }, 'cannot poll rule revisions; routing with the last known rules');
    }
  }

  /** One reload at a time; a notice arriving meanwhile triggers one more. */
  private reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          this.snapshot = await loadRuleSnapshot(this.deps.db, this.deps.logger);
          this.deps.logger.info(
            { revisions: Object.fromEntries(snapshotRevisions(this.snapshot)) },
            'rules reloaded',
          );
        } catch (err) {
          this.deps.logger.warn({ err }, 'cannot reload rules; routing with the last known rules');
        }
      } while (this.reloadAgain);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }
}
