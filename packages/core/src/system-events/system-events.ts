import type { CloudEventRecord } from '../cloudevent/cloud-event.js';
import type { DeadLetterRecord, DeliveryFailure } from '../messages/dead-letter-message.js';
import type { ReplayMarker } from '../messages/delivery-message.js';

/**
 * The system bus: Fuze publishes its own events here (a delivery dead-lettered, a replay finished,
 * a timer fired or failed), and rules on this bus route them like any other event. Applications
 * cannot publish to it, so every event on it is Fuze's.
 */
export const systemBus = 'fuze';

/**
 * Why an application may not publish to `bus`, or undefined when it may: the system bus carries
 * only Fuze's own events (rules may match them; the gateway, the SDK and timers refuse it).
 */
export function reservedBusProblem(bus: string): string | undefined {
  return bus === systemBus
    ? `bus "${systemBus}" is reserved for Fuze's own system events: publish to another bus (rules on "${systemBus}" receive Fuze's events)`
    : undefined;
}

/** Every system event type, as its CloudEvent `type`. schemas/system-events/ holds each data schema. */
export const systemEventTypes = [
  'dev.fuze.delivery.dead-lettered',
  'dev.fuze.replay.finished',
  'dev.fuze.archive-replay.finished',
  'dev.fuze.timer.fired',
  'dev.fuze.timer.failed',
] as const;
export type SystemEventType = (typeof systemEventTypes)[number];

/**
 * Sources, one per kind of fact: with the `id`, they make the event's identity, so a fact
 * published twice (a retry, a second admin instance) is one event (JetStream dedupes source+id).
 */
const sources: Record<SystemEventType, string> = {
  'dev.fuze.delivery.dead-lettered': '/fuze/dead-letters',
  'dev.fuze.replay.finished': '/fuze/replays',
  'dev.fuze.archive-replay.finished': '/fuze/replays',
  'dev.fuze.timer.fired': '/fuze/timers',
  'dev.fuze.timer.failed': '/fuze/timers',
};

export interface DeadLetteredData {
  deadLetterId: string;
  bus: string;
  rule: string;
  target: string;
  /** The attributes of the event whose delivery failed (its data is in the dead letter). */
  event: Record<string, string>;
  partitionKey?: string;
  failure: DeliveryFailure;
  deadLetteredAt: string;
  /** Set when the failed delivery was itself a replay of another dead letter. */
  replay?: ReplayMarker;
}

export interface ReplayFinishedData {
  jobId: string;
  state: 'completed' | 'failed';
  /** Dead letters in the job, replayed (published again), and not replayable. */
  total: number;
  replayed: number;
  failed: number;
  /** The target every entry was sent to, when the job named one. */
  target?: string;
  error?: string;
  createdAt: string;
  finishedAt: string;
}

export interface ArchiveReplayFinishedData {
  jobId: string;
  state: 'completed' | 'failed';
  bus: string;
  /** The window: events the bus accepted in [from, to). */
  from: string;
  to: string;
  /** The rules replayed to (every rule of the bus when the job named none). */
  rules?: string[];
  targets?: string[];
  /** Events of the window read, events that matched a rule, and deliveries published. */
  events: number;
  matched: number;
  deliveries: number;
  /** Events that could not be routed again (see the job's failures). */
  failed: number;
  error?: string;
  createdAt: string;
  finishedAt: string;
}

export interface TimerFiredData {
  key: string;
  generation: number;
  bus: string;
  /** The due time this firing is for. */
  dueAt: string;
  firedAt: string;
  /** The fired event's identity. */
  eventId: string;
  eventSource: string;
  eventType: string;
}

export interface TimerFailedData {
  key: string;
  generation: number;
  dueAt: string;
  eventId: string;
  eventSource: string;
  /** `dead-lettered`: a delivery of the fired event was given up on; `rejected`: JetStream refused the event for good. */
  reason: 'dead-lettered' | 'rejected';
  error: string;
  deadLetterId?: string;
  rule?: string;
  target?: string;
}

/** One system event's data, by type. */
export interface SystemEventData {
  'dev.fuze.delivery.dead-lettered': DeadLetteredData;
  'dev.fuze.replay.finished': ReplayFinishedData;
  'dev.fuze.archive-replay.finished': ArchiveReplayFinishedData;
  'dev.fuze.timer.fired': TimerFiredData;
  'dev.fuze.timer.failed': TimerFailedData;
}

/**
 * A system event: `id` is the fact's own id (a dead letter's, a job's, a firing's), so the same
 * fact always makes the same event; `subject` is what it is about (target, job, timer key), which
 * is also its routing key.
 */
export function systemEvent<T extends SystemEventType>(
  type: T,
  id: string,
  subject: string,
  time: string,
  data: SystemEventData[T],
): CloudEventRecord {
  return {
    specversion: '1.0',
    id,
    source: sources[type],
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    data,
  };
}

/** The event for a dead-lettered delivery. */
export function deadLetteredEvent(record: DeadLetterRecord): CloudEventRecord {
  const data: DeadLetteredData = {
    deadLetterId: record.id,
    bus: record.bus,
    rule: record.rule,
    target: record.target,
    event: record.attributes,
    failure: record.failure,
    deadLetteredAt: record.deadLetteredAt,
  };
  if (record.partitionKey !== undefined) data.partitionKey = record.partitionKey;
  if (record.replay !== undefined) data.replay = record.replay;
  return systemEvent(
    'dev.fuze.delivery.dead-lettered',
    record.id,
    record.target,
    record.deadLetteredAt,
    data,
  );
}

/**
 * Whether a dead letter gets a system event: not when the failed event was itself on the system
 * bus, so a rule whose target fails on system events cannot feed itself (no loops).
 */
export function announcesDeadLetter(record: DeadLetterRecord): boolean {
  return record.bus !== systemBus;
}
