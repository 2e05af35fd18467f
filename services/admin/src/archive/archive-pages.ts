import {
  busEventsFilter,
  type CloudEventRecord,
  decodeEventMessage,
  type Logger,
  subjectRoot,
} from '@fuze/core';
import {
  type ArchivePage,
  type ArchiveWindow,
  type FuzeDb,
  getReplayJob,
  type ReplayJobRow,
  recordArchivePage,
  startArchiveReplay,
} from '@fuze/db';
import { type BusRules, planDeliveries, ruleSnapshotOf } from '@fuze/routing';
import { loadRuleCatalog } from '@fuze/runtime';
import type { JsMsg } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, Publisher } from '../dlq/jetstream.js';
import { ReplayJobError, type ReplayPages } from '../dlq/replay-pages.js';
import { publishReplay } from '../dlq/replay-trace.js';
import { windowSequences } from './archive-window.js';

export interface ArchivePagesDeps {
  db: FuzeDb;
  js: JetStreamClient;
  jsm: JetStreamManager;
  publisher: Publisher;
  prefix: string;
  /** `<P>_EVENTS`: the archive. */
  eventsStream: string;
  /** The worker holding the job: only it records where the job starts. */
  workerId: string;
  /** The connected server's max_payload (a bigger delivery is dead-lettered, as the router does). */
  maxPayloadBytes(): number;
  logger: Logger;
}

/** The CloudEvent extension that marks an event routed again by an archive replay: the job's id. */
export const replayExtension = 'fuzereplay';

/**
 * An archive replay job's pages: the bus's events accepted in the window, read in stream order
 * through an ordered consumer, matched against the rules as they are when the job (re)opens and
 * published to DELIVERY through the usual partitioned path, so each key's events reach their
 * targets in their original order. Each event gets the `fuzereplay` extension (the job id); each
 * delivery the replay marker and a Nats-Msg-Id of the job's, so a page published again after a
 * crash is deduplicated while the original routing is not. A page is recorded (cursor, counts)
 * only once every publish of it was acked. A dry run reads and counts the same way and publishes
 * nothing.
 */
export async function openArchivePages(job: ReplayJobRow, deps: ArchivePagesDeps): Promise<ReplayPages> {
  if (!('archive' in job.selection)) throw new ReplayJobError(`job ${job.id} is not an archive replay`);
  const window = job.selection.archive;
  const rules = await windowRules(deps, window);
  const targets = window.targets ? new Set(window.targets) : undefined;
  const busFilter = busEventsFilter(deps.prefix, window.bus);
  const info = await deps.jsm.streams.info(deps.eventsStream);
  let progress = (await getReplayJob(deps.db, job.id))?.archive ?? undefined;
  if (!progress) {
    const position = await windowSequences(
      deps.jsm,
      deps.eventsStream,
      info.state,
      { all: `${subjectRoot(deps.prefix)}.events.>`, bus: busFilter },
      { from: Date.parse(window.from), to: Date.parse(window.to) },
    );
    const started = await startArchiveReplay(deps.db, job.id, deps.workerId, {
      ...position,
      cursor: position.firstSeq - 1,
    });
    if (!started?.archive) throw new Error(`replay job ${job.id} is no longer this worker's`);
    progress = started.archive;
  }
  const { lastSeq } = progress;
  const nothingLeft: ReplayPages = { take: async () => undefined, close: async () => {} };
  if (progress.cursor >= lastSeq) return nothingLeft;
  const from = progress.cursor + 1;
  if (info.state.first_seq > from) {
    throw new ReplayJobError(
      `the events stream no longer holds sequences ${from} to ${Math.min(info.state.first_seq - 1, lastSeq)} of the window: they expired (FUZE_EVENTS_MAX_AGE) before the job replayed them`,
    );
  }
  const consumer = await deps.js.consumers.get(deps.eventsStream, {
    filter_subjects: busFilter,
    deliver_policy: 'by_start_sequence',
    opt_start_seq: from,
  });
  if ((await consumer.info()).num_pending === 0) return nothingLeft;
  const messages = await consumer.consume({ max_messages: 512, expires: 10_000 });
  const iterator = messages[Symbol.asyncIterator]();
  let ended = false;

  const readPage = async (size: number): Promise<JsMsg[]> => {
    const page: JsMsg[] = [];
    while (!ended && page.length < size) {
      const next = await iterator.next();
      if (next.done) throw new Error('the events stream consumer stopped');
      const msg = next.value;
      if (msg.seq > lastSeq) {
        ended = true;
        break;
      }
      page.push(msg);
      // The window's last message, or the bus's last event: nothing of the window comes after.
      if (msg.seq >= lastSeq || msg.info.pending === 0) ended = true;
    }
    return page;
  };

  const routePage = async (page: JsMsg[]): Promise<ArchivePage> => {
    const counts: ArchivePage = {
      cursor: page.at(-1)!.seq,
      events: page.length,
      matched: 0,
      deliveries: 0,
      byRule: {},
      byTarget: {},
      failed: [],
    };
    const publishes: Array<Promise<void>> = [];
    for (const msg of page) {
      let event: CloudEventRecord;
      try {
        event = decodeEventMessage(msg.data);
      } catch (err) {
        counts.failed.push({ id: String(msg.seq), reason: `not a CloudEvent: ${(err as Error).message}` });
        continue;
      }
      const replayed = { ...event, [replayExtension]: job.id };
      let plan: ReturnType<typeof planDeliveries>;
      try {
        plan = planDeliveries(rules, replayed, {
          prefix: deps.prefix,
          bus: window.bus,
          seq: msg.seq,
          acceptedAt: msg.time.getTime(),
          maxPayloadBytes: deps.maxPayloadBytes(),
          replayJob: job.id,
          ...(targets ? { targets } : {}),
        });
      } catch (err) {
        counts.failed.push({
          id: String(msg.seq),
          reason: `cannot plan its deliveries: ${(err as Error).message}`,
        });
        continue;
      }
      if (plan.matchedRules.length > 0) counts.matched++;
      plan.routes.forEach((route, i) => {
        counts.deliveries++;
        counts.byRule[route.rule] = (counts.byRule[route.rule] ?? 0) + 1;
        counts.byTarget[route.target] = (counts.byTarget[route.target] ?? 0) + 1;
        if (job.dryRun) return;
        // Issued in stream order: the publisher keeps call order, so each key's deliveries are
        // stored in their original order.
        const origin = {
          attributes: { id: event.id, source: event.source, type: event.type },
          traceparent: typeof event.traceparent === 'string' ? event.traceparent : undefined,
          bus: window.bus,
          rule: route.rule,
        };
        publishes.push(publishReplay(deps.publisher, plan.publishes[i]!, origin, job.id, route.target));
      });
    }
    await Promise.all(publishes);
    return counts;
  };

  return {
    async take(size) {
      const page = await readPage(size);
      if (page.length === 0) return undefined;
      return {
        size: page.length,
        async replay() {
          await recordArchivePage(deps.db, job.id, await routePage(page));
        },
      };
    },
    async close() {
      messages.stop();
    },
  };
}

/**
 * The window's rules as they are now: the named ones (each must still exist and be enabled on
 * the bus), or every enabled rule of the bus.
 */
async function windowRules(deps: ArchivePagesDeps, window: ArchiveWindow): Promise<BusRules | undefined> {
  const catalog = await loadRuleCatalog(deps.db);
  const ofBus = catalog.rules.filter((rule) => rule.bus === window.bus);
  if (window.rules) {
    const gone = window.rules.filter((name) => !ofBus.some((rule) => rule.name === name && rule.enabled));
    if (gone.length > 0)
      throw new ReplayJobError(
        `bus ${window.bus} no longer has the enabled rule${gone.length > 1 ? 's' : ''} ${gone.join(', ')}`,
      );
  }
  const chosen = window.rules ? ofBus.filter((rule) => window.rules!.includes(rule.name)) : ofBus;
  return ruleSnapshotOf({ rules: chosen }, deps.logger).get(window.bus);
}
