import { type CloudEventRecord, deliveredCloudEvent } from '@fuze/core';
import type { Delivery } from '@fuze/delivery';
import { withSpan } from '@fuze/telemetry';

/** What a handler knows about the delivery besides the event. */
export interface DeliveryContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** The ordering key, when the delivery is ordered. */
  partitionKey: string | undefined;
  bus: string;
  rule: string;
  /** Aborted when this consumer gives the delivery up (shutdown, rebalance): stop early. */
  signal: AbortSignal;
  /**
   * Set when an operator replayed this event: `deadLetterId` names the dead letter for a
   * dead-letter replay, and is absent for an archive replay.
   */
  replay: { jobId: string; deadLetterId?: string } | undefined;
}

/** The delivery's CloudEvent, as a handler receives it. */
export function deliveredEvent<T>(delivery: Delivery): CloudEventRecord & { data?: T } {
  return deliveredCloudEvent(delivery.envelope) as CloudEventRecord & { data?: T };
}

export function deliveryContext(delivery: Delivery): DeliveryContext {
  const { envelope } = delivery;
  return {
    attempt: delivery.attempts,
    partitionKey: envelope.partitionKey,
    bus: envelope.bus,
    rule: envelope.rule,
    signal: delivery.signal,
    replay: envelope.replay,
  };
}

/**
 * Runs one attempt with the delivery's `process fuze.deliver` span active (made by the delivery
 * engine while tracing is on), so the application's spans become its children (the application's
 * own context manager carries it across awaits).
 */
export async function inDeliverySpan<R>(delivery: Delivery, call: () => R | Promise<R>): Promise<R> {
  const { trace } = delivery;
  return trace ? withSpan(trace.span, call, trace.parent) : call();
}
