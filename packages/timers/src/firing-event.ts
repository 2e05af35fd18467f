import { type CloudEventRecord, eventMessageId } from '@fuze/core';
import type { TimerEventTemplate } from './types.js';

/**
 * The CloudEvent `id` of one firing: `<key>@<due time ISO>#<generation>`. Stable for a timer
 * version and due time, so a firing retried after a crash is the same event (JetStream drops the
 * copy by its Nats-Msg-Id; consumers may dedupe by id). The generation (bumped by every replace)
 * makes a re-armed timer's firing a new event even when it keeps a due time that already fired.
 */
export function timerEventId(key: string, generation: number, dueMs: number): string {
  return `${key}@${new Date(dueMs).toISOString()}#${generation}`;
}

/** What a firing's event id names: the timer, its generation and the due time. */
export interface TimerFiring {
  key: string;
  generation: number;
  dueMs: number;
}

const firingIdPattern = /^(.+)@(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#(\d{1,15})$/;

/**
 * Reads a firing back from an event id made by {@link timerEventId}, or undefined when the id
 * does not have that shape. Any publisher could choose such an id: the caller checks the timer.
 */
export function parseTimerEventId(id: string): TimerFiring | undefined {
  const match = firingIdPattern.exec(id);
  if (!match) return undefined;
  const dueMs = Date.parse(match[2]!);
  if (Number.isNaN(dueMs)) return undefined;
  return { key: match[1]!, generation: Number(match[3]), dueMs };
}

/** The Nats-Msg-Id of one firing: the usual digest of the event's source and id. */
export function timerMessageId(source: string, key: string, generation: number, dueMs: number): string {
  return eventMessageId(source, timerEventId(key, generation, dueMs));
}

/** Extensions that ask for delayed delivery; never part of an event that enters the bus. */
const deliveryExtensions = new Set(['deliverat', 'delay']);

/**
 * The event one firing publishes: the template with `specversion`, the stable `id`, and `time` =
 * the due time (the moment the occurrence is about), so every retry yields identical bytes.
 */
export function timerFiringEvent(
  template: TimerEventTemplate,
  key: string,
  generation: number,
  dueMs: number,
): CloudEventRecord {
  const event: CloudEventRecord = {
    specversion: '1.0',
    id: timerEventId(key, generation, dueMs),
    source: template.source,
    type: template.type,
    time: new Date(dueMs).toISOString(),
  };
  for (const [name, value] of Object.entries(template)) {
    if (name === 'id' || name === 'specversion' || name === 'time' || deliveryExtensions.has(name)) continue;
    event[name] = value;
  }
  return event;
}

/**
 * A held event (delayed delivery) as it enters the bus: unchanged (its own id and time), less
 * the delivery extensions. Its Nats-Msg-Id is that of any event: eventMessageId(source, id).
 */
export function heldEventForBus(event: CloudEventRecord): CloudEventRecord {
  const copy: CloudEventRecord = { ...event };
  for (const name of deliveryExtensions) delete copy[name];
  return copy;
}

/** The timer key of a held event: one timer per event identity (source + id), so holding is idempotent. */
export function heldEventTimerKey(source: string, id: string): string {
  return `${HELD_EVENT_KEY_PREFIX}${eventMessageId(source, id)}`;
}

/** Keys under this prefix belong to held events; the API refuses to create them. */
export const HELD_EVENT_KEY_PREFIX = 'delayed:';
