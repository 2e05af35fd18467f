import type { DeadLetterRecord, EventRouting } from '@fuze/core';
import { decodeDeadLetterMessage } from '@fuze/core';
import {
  type DeadLetterRow,
  type FuzeDb,
  nextReplayEntries,
  type ReplayEntryFailure,
  type ReplayJobRow,
  settleReplayEntries,
} from '@fuze/db';
import type { JetStreamManager, Publisher, PublishRequest } from './jetstream.js';
import { ReplayJobError, type ReplayPages } from './replay-pages.js';
import { ReplayEntryError, replayPublication } from './replay-publication.js';
import { publishReplay } from './replay-trace.js';
import { loadTargetCatalog } from './target-catalog.js';

export interface DeadLetterPagesDeps {
  db: FuzeDb;
  jsm: JetStreamManager;
  publisher: Publisher;
  prefix: string;
  routing: EventRouting;
  /** `<P>_DLQ`: where the records are read from. */
  dlqStream: string;
}

/**
 * A dead-letter replay job's pages: its entries in the order the bus accepted their events, each
 * republished to DELIVERY; a page is marked `replayed` only once all its publishes were acked. A
 * crash replays the unfinished page again under the same Nats-Msg-Ids, which JetStream
 * deduplicates.
 */
export function deadLetterPages(job: ReplayJobRow, deps: DeadLetterPagesDeps): ReplayPages {
  const replayPage = async (
    entries: DeadLetterRow[],
  ): Promise<{ replayed: string[]; failed: ReplayEntryFailure[] }> => {
    const catalog = await loadTargetCatalog(deps.db);
    if (job.target !== null && !catalog.hasTarget(job.target)) {
      throw new ReplayJobError(`the target ${job.target} is no longer defined by any rule`);
    }
    const records = await Promise.all(
      entries.map((entry) => deps.jsm.streams.getMessage(deps.dlqStream, { seq: entry.dlqStreamSeq })),
    );
    const failed: ReplayEntryFailure[] = [];
    const publishes: Array<{
      id: string;
      request: PublishRequest;
      record: DeadLetterRecord;
      target: string;
    }> = [];
    entries.forEach((entry, i) => {
      const stored = records[i];
      try {
        if (!stored)
          throw new ReplayEntryError('the record is no longer in the DLQ stream (expired or deleted)');
        const record = decodeDeadLetterMessage(stored.data);
        if (record.id !== entry.id) {
          throw new ReplayEntryError(
            `DLQ sequence ${entry.dlqStreamSeq} holds another record (${record.id})`,
          );
        }
        publishes.push({
          id: entry.id,
          record,
          target: job.target ?? record.target,
          request: replayPublication(record, {
            prefix: deps.prefix,
            routing: deps.routing,
            jobId: job.id,
            target: job.target ?? undefined,
            catalog,
          }),
        });
      } catch (err) {
        failed.push({ id: entry.id, reason: (err as Error).message });
      }
    });
    // The publisher keeps call order, so each key's entries reach DELIVERY in their original order.
    await Promise.all(
      publishes.map((p) =>
        publishReplay(deps.publisher, p.request, replayOrigin(p.record), job.id, p.target),
      ),
    );
    return { replayed: publishes.map((p) => p.id), failed };
  };

  return {
    async take(size) {
      const entries = await nextReplayEntries(deps.db, job.id, size);
      if (entries.length === 0) return undefined;
      return {
        size: entries.length,
        async replay() {
          await settleReplayEntries(deps.db, job.id, await replayPage(entries));
        },
      };
    },
    async close() {},
  };
}

function replayOrigin(record: DeadLetterRecord) {
  return {
    attributes: record.attributes,
    traceparent: record.traceparent,
    bus: record.bus,
    rule: record.rule,
    deadLetterId: record.id,
  };
}
