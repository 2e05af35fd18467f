import {
  announcesDeadLetter,
  type DeadLetterRecord,
  deadLetteredEvent,
  type EventRouting,
  encodeEventMessage,
  type SystemEventType,
  systemBus,
  systemEvent,
} from '@fuze/core';
import { type DeadLetteredFiring, type FuzeDb, recordDeadLetteredFirings } from '@fuze/db';
import { parseTimerEventId } from '@fuze/timers';
import type { Publisher } from './jetstream.js';

export interface DeadLetterAnnouncerOptions {
  db: FuzeDb;
  publisher: Publisher;
  /** FUZE_STREAM_PREFIX */
  prefix: string;
  routing: EventRouting;
  /** FUZE_SYSTEM_EVENTS */
  systemEvents: ReadonlySet<SystemEventType>;
}

/**
 * A timer firing dead-lettered before the scheduler committed the firing (its publish and the
 * delivery's failure were faster than the scheduler's write): the batch is announced again later.
 */
export class FiringNotCommittedError extends Error {
  constructor(readonly keys: string[]) {
    super(
      `the scheduler has not committed the dead-lettered firing of timer(s) ${keys.join(', ')} yet; announcing again shortly`,
    );
    this.name = 'FiringNotCommittedError';
  }
}

/** Tells the rest of the system about newly indexed dead letters; rejects to have them retried. */
export type DeadLetterAnnouncer = (records: readonly DeadLetterRecord[]) => Promise<void>;

/**
 * For each dead letter: records it on its timer when the failed event was a timer's firing (the
 * timer's last outcome), and publishes `dev.fuze.delivery.dead-lettered` and, for a firing,
 * `dev.fuze.timer.failed` on the system bus. Every step is idempotent (an outcome written again is
 * the same; a system event's id is the dead letter's), so the indexer runs it before its ack and
 * runs it again after any failure. Dead letters of system events announce nothing (no loops).
 */
export function deadLetterAnnouncer(options: DeadLetterAnnouncerOptions): DeadLetterAnnouncer {
  const enabled = options.systemEvents;
  const publish = (event: Parameters<typeof encodeEventMessage>[2]) =>
    options.publisher.publish(encodeEventMessage(options.prefix, systemBus, event, options.routing));

  return async (records) => {
    const announced = records.filter(announcesDeadLetter);
    const { timers: firings, awaitingCommit } = await recordDeadLetteredFirings(
      options.db,
      announced.flatMap(firingOf),
    );
    // Announcing now would leave the timer's outcome `published` once the scheduler commits.
    if (awaitingCommit.length > 0) throw new FiringNotCommittedError(awaitingCommit.map((f) => f.key));
    const publishes: Array<Promise<unknown>> = [];
    if (enabled.has('dev.fuze.delivery.dead-lettered')) {
      for (const record of announced) publishes.push(publish(deadLetteredEvent(record)));
    }
    if (enabled.has('dev.fuze.timer.failed')) {
      const byId = new Map(announced.map((r) => [r.id, r]));
      for (const firing of firings) {
        const record = byId.get(firing.deadLetterId)!;
        const dueAt = new Date(firing.dueMs).toISOString();
        publishes.push(
          publish(
            systemEvent(
              'dev.fuze.timer.failed',
              `dead-letter:${record.id}`,
              firing.key,
              record.deadLetteredAt,
              {
                key: firing.key,
                generation: firing.generation,
                dueAt,
                eventId: record.attributes.id ?? '',
                eventSource: firing.eventSource,
                reason: 'dead-lettered',
                error: firing.error,
                deadLetterId: record.id,
                rule: record.rule,
                target: record.target,
              },
            ),
          ),
        );
      }
    }
    await Promise.all(publishes);
  };
}

function firingOf(record: DeadLetterRecord): DeadLetteredFiring[] {
  const { id, source } = record.attributes;
  if (id === undefined || source === undefined) return [];
  const firing = parseTimerEventId(id);
  if (!firing) return [];
  return [
    {
      ...firing,
      eventSource: source,
      deadLetterId: record.id,
      rule: record.rule,
      target: record.target,
      error: record.failure.message,
    },
  ];
}
