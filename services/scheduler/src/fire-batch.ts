import type { PublishAck, PublishRequest } from '@fuze/bus';
import {
  type CloudEventRecord,
  type EventRouting,
  encodeEventMessage,
  isFuzeError,
  type Logger,
  type SystemEventType,
  systemBus,
  systemEvent,
} from '@fuze/core';
import { type ClaimedTimer, claimDueTimers, commitFirings, type FiringOutcome, type FuzeDb } from '@fuze/db';
import {
  destinations,
  endSpan,
  injectTraceContext,
  linkFrom,
  publishSpan,
  setEventTraceContext,
  tracingActive,
} from '@fuze/telemetry';
import { heldEventForBus, planFiring, timerFiringEvent } from '@fuze/timers';
import type { SchedulerStats } from './scheduler-stats.js';

/** What the firing path needs of the JetStream publisher. */
export interface EventPublisher {
  publish(request: PublishRequest): Promise<PublishAck>;
}

export interface FireBatchDeps {
  db: FuzeDb;
  publisher: EventPublisher;
  streamPrefix: string;
  /** The deployment's routing: which routing shard each fired event goes to. */
  routing: EventRouting;
  /** FUZE_SYSTEM_EVENTS: which of `dev.fuze.timer.fired` / `.failed` go with the firings. */
  systemEvents: ReadonlySet<SystemEventType>;
  logger: Logger;
  stats: SchedulerStats;
  batchSize: number;
  /** Called once the claim returned, before publishing: the rows are locked and skipped by others. */
  onClaimed?: (claimed: number) => void;
}

export interface BatchResult {
  /** Timers claimed (0: nothing was due, or all due rows were locked elsewhere). */
  claimed: number;
  /** The database clock at the claim. */
  dbNowMs: number;
  /** Next due times of the recurring timers fired (the heap of due times learns them without a query). */
  nextDueTimes: number[];
  /** Due time of the oldest timer claimed (dbNowMs when none). */
  oldestDueMs: number;
  /** Milliseconds spent claiming, publishing and updating (commit not included). */
  timings: { claim: number; publish: number; update: number };
}

/**
 * One firing transaction: claim due timers (FOR UPDATE SKIP LOCKED), publish their events into
 * the events stream and wait for JetStream's acks, then record the new state of each timer, and
 * commit, which releases the row locks. A crash anywhere before the commit rolls the claim back:
 * the timers are due again, and the retried firing publishes the same events with the same
 * Nats-Msg-Id, which JetStream drops as duplicates.
 */
export async function fireBatch(deps: FireBatchDeps): Promise<BatchResult> {
  const { stats } = deps;
  stats.claims++;
  stats.statements += 2; // BEGIN, COMMIT
  return deps.db.transaction(async (tx) => {
    stats.statements++;
    const t0 = performance.now();
    const { dbNowMs, timers } = await claimDueTimers(tx, deps.batchSize);
    const t1 = performance.now();
    deps.onClaimed?.(timers.length);
    if (timers.length === 0) {
      stats.emptyClaims++;
      return {
        claimed: 0,
        dbNowMs,
        oldestDueMs: dbNowMs,
        nextDueTimes: [],
        timings: { claim: t1 - t0, publish: 0, update: 0 },
      };
    }
    stats.rowsClaimed += timers.length;
    const outcomes = await Promise.all(timers.map((timer) => fireTimer(deps, timer, dbNowMs)));
    const settled = outcomes.filter((o): o is FiringOutcome => o !== undefined);
    const t2 = performance.now();
    stats.statements++;
    const updated = await commitFirings(tx, settled);
    stats.rowsUpdated += updated;
    const nextDueTimes = settled.flatMap((o) => (o.nextFireAtMs === undefined ? [] : [o.nextFireAtMs]));
    const timings = { claim: t1 - t0, publish: t2 - t1, update: performance.now() - t2 };
    return { claimed: timers.length, dbNowMs, oldestDueMs: timers[0]!.dueMs, nextDueTimes, timings };
  });
}

/** Publishes one timer's due events; undefined leaves the timer as it was, to be retried. */
async function fireTimer(
  deps: FireBatchDeps,
  timer: ClaimedTimer,
  dbNowMs: number,
): Promise<FiringOutcome | undefined> {
  const plan = planFiring(
    {
      schedule: timer.schedule,
      misfire: timer.misfire,
      misfireGraceMs: timer.misfireGraceMs,
      dueMs: timer.dueMs,
    },
    dbNowMs,
  );
  if (plan.misfired) deps.stats.misfires++;
  if (plan.fire.length === 0) deps.stats.skipped++;
  const results = await Promise.allSettled(
    plan.fire.map((dueMs) => {
      const event = firingEvent(timer, dueMs);
      return publishFiring(deps, timer, event).then(() => announceFired(deps, timer, event, dueMs));
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  deps.stats.eventsPublished += results.length - results.filter((r) => r.status === 'rejected').length;
  const lastDueMs = plan.fire.length > 0 ? plan.fire[plan.fire.length - 1] : undefined;
  if (!failed) {
    return {
      key: timer.key,
      generation: timer.generation,
      state: plan.nextFireAtMs === undefined ? 'completed' : 'scheduled',
      nextFireAtMs: plan.nextFireAtMs,
      lastDueMs,
      fired: plan.fire.length,
    };
  }
  deps.stats.publishErrors++;
  const err = failed.reason as Error;
  if (isRefusedForGood(err)) {
    // JetStream refused the event for good (too large, no stream for its subject...): retrying
    // would fail forever, so the timer stops here until it is put again.
    deps.logger.error(
      { err, timer: timer.key },
      'JetStream refused a timer event; the timer is marked failed',
    );
    const published = plan.fire.filter((_, i) => results[i]!.status === 'fulfilled');
    const refusedDueMs = plan.fire.find((_, i) => results[i]!.status === 'rejected')!;
    try {
      await announceRefused(deps, timer, refusedDueMs, err.message);
    } catch (announceErr) {
      // Refused for good as well (the stream's limits refuse the announcement too): the timer is
      // still marked failed; a passing outage is retried, announcement and all.
      if (!isRefusedForGood(announceErr)) {
        deps.logger.warn(
          { err: announceErr, timer: timer.key },
          'cannot announce the failed timer; retrying',
        );
        return undefined;
      }
      deps.logger.error(
        { err: announceErr, timer: timer.key },
        'JetStream refused the timer.failed system event too',
      );
    }
    return {
      key: timer.key,
      generation: timer.generation,
      state: 'failed',
      nextFireAtMs: undefined,
      lastDueMs: published[published.length - 1],
      fired: published.length,
      lastError: err.message,
    };
  }
  deps.logger.warn({ err, timer: timer.key }, 'could not publish a timer event; it will be retried');
  return undefined;
}

/** JetStream refused the write itself (too large, no stream for its subject...): no retry can help. */
function isRefusedForGood(err: unknown): boolean {
  return isFuzeError(err, 'FUZE_PUBLISH_FAILED') && typeof err.details.jetstreamCode === 'number';
}

/**
 * `dev.fuze.timer.fired`, published once the firing's event is stored and before the firing
 * commits: a crash in between fires again, and both events are deduplicated by their ids. Held
 * (delayed) events are not timers of their own: they announce nothing.
 */
async function announceFired(
  deps: FireBatchDeps,
  timer: ClaimedTimer,
  event: CloudEventRecord,
  dueMs: number,
): Promise<void> {
  if (timer.origin === 'delayed' || !deps.systemEvents.has('dev.fuze.timer.fired')) return;
  const dueAt = new Date(dueMs).toISOString();
  const announcement = systemEvent('dev.fuze.timer.fired', event.id, timer.key, new Date().toISOString(), {
    key: timer.key,
    generation: timer.generation,
    bus: timer.bus,
    dueAt,
    firedAt: new Date().toISOString(),
    eventId: event.id,
    eventSource: event.source,
    eventType: event.type,
  });
  try {
    await deps.publisher.publish(
      encodeEventMessage(deps.streamPrefix, systemBus, announcement, deps.routing),
    );
  } catch (err) {
    // The firing itself is stored: an announcement JetStream refuses for good must not fail it.
    if (!isRefusedForGood(err)) throw err;
    deps.logger.error({ err, timer: timer.key }, 'JetStream refused the timer.fired system event');
  }
}

/** `dev.fuze.timer.failed` (`rejected`) for a firing JetStream refused for good. */
async function announceRefused(
  deps: FireBatchDeps,
  timer: ClaimedTimer,
  dueMs: number,
  error: string,
): Promise<void> {
  if (timer.origin === 'delayed' || !deps.systemEvents.has('dev.fuze.timer.failed')) return;
  const event = firingEvent(timer, dueMs);
  const announcement = systemEvent(
    'dev.fuze.timer.failed',
    `rejected:${event.id}`,
    timer.key,
    new Date().toISOString(),
    {
      key: timer.key,
      generation: timer.generation,
      dueAt: new Date(dueMs).toISOString(),
      eventId: event.id,
      eventSource: event.source,
      reason: 'rejected',
      error,
    },
  );
  await deps.publisher.publish(encodeEventMessage(deps.streamPrefix, systemBus, announcement, deps.routing));
}

function firingEvent(timer: ClaimedTimer, dueMs: number): CloudEventRecord {
  if (timer.origin === 'delayed') return heldEventForBus(timer.event as CloudEventRecord);
  return timerFiringEvent(timer.event, timer.key, timer.generation, dueMs);
}

/**
 * Publishes one fired event. While tracing is on, the firing starts a new trace: a root
 * `publish fuze.events` span linked to the trace that set the timer (the row's `traceparent`: the
 * admin request's, or a delayed event's own), whose context goes into the message's `traceparent`
 * header. A timer's event is born at the firing, so its `traceparent` attribute is the firing's; a
 * delayed event keeps its own (where it started).
 */
async function publishFiring(
  deps: FireBatchDeps,
  timer: ClaimedTimer,
  event: CloudEventRecord,
): Promise<PublishAck> {
  if (!tracingActive())
    return deps.publisher.publish(encodeEventMessage(deps.streamPrefix, timer.bus, event, deps.routing));
  const span = publishSpan(destinations.events, undefined, event, {
    root: true,
    links: linkFrom(timer.traceparent ?? event.traceparent),
    bus: timer.bus,
    attributes: { 'fuze.timer.key': timer.key, 'fuze.timer.origin': timer.origin },
  });
  if (timer.origin !== 'delayed') setEventTraceContext(event, span);
  const request = encodeEventMessage(deps.streamPrefix, timer.bus, event, deps.routing);
  const headers: Record<string, string> = { ...request.headers };
  delete headers.traceparent;
  delete headers.tracestate;
  injectTraceContext(headers, span);
  span.setAttribute('messaging.destination.name', request.subject);
  try {
    const ack = await deps.publisher.publish({ ...request, headers });
    endSpan(span);
    return ack;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}
