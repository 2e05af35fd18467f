import type { LeaseFence } from '@fuze/bus';
import type { DeliveryEnvelope, HeaderReader } from '@fuze/core';
import type { Context, Span } from '@fuze/telemetry';

/**
 * One delivery being worked on: a message of `<p>.deliver.<target>.<partition>` held by this
 * worker until it is acked (delivered, or dead-lettered) or given up (partition released).
 *
 * The attempt fields are the ONE attempt counter of the delivery: the retry middleware advances
 * them, the dead-letter middleware copies them onto the record. They count attempts made by this
 * worker; a delivery that moves to another worker (crash, rebalance) starts again from the
 * redelivery count JetStream reports, while `maxAge` keeps bounding the total time.
 */
export interface Delivery {
  readonly envelope: DeliveryEnvelope;
  /** Set when the message could not be decoded: it is dead-lettered as is, never handed to a target. */
  readonly problem?: string;
  /** The target whose delivery subject this came from. */
  readonly target: string;
  readonly partition: number | 'unordered';
  /** Sequence of the message in the delivery stream. */
  readonly streamSeq: number;
  /** The delivery message's subject and headers (its `traceparent` is the router's publish span). */
  readonly subject?: string;
  readonly headers?: HeaderReader;
  /** Attempts made so far, the running one included. */
  attempts: number;
  /** Epoch ms of the first attempt (undefined before it starts). */
  firstAttemptAt: number | undefined;
  /** Epoch ms of the latest attempt. */
  lastAttemptAt: number | undefined;
  /**
   * Aborted when stopping begins (partition released, shutdown): start no new attempt and no
   * backoff wait. An attempt already running may finish within the release grace period.
   */
  readonly stopping: AbortSignal;
  /** Aborted when the running attempt must end now: stop, the delivery will not be acked here. */
  readonly signal: AbortSignal;
  /**
   * The partition's lease: no attempt starts unless `mayStart()`, no dead letter is stored and
   * no ack sent unless `maySettle()` (an owner that cannot confirm its lease must not act; the
   * next owner redelivers). The unordered subject's fence is always open.
   */
  readonly fence: LeaseFence;
  /**
   * Set by the telemetry middleware while tracing is on: the delivery's `process fuze.deliver`
   * span, the context it was started in (`parent`), and `context` = the span in `parent`: the
   * parent of each attempt's span and of the dead-letter span.
   */
  trace?: { span: Span; parent: Context; context: Context };
  /** Set by the dead-letter middleware once the delivery is dead-lettered: why. */
  deadLettered?: { error: unknown };
}

/**
 * Delivers one message. Resolves when the delivery is done (the worker acks it); rejects when it
 * failed. What a rejection means is decided by the middleware around it: retried, dead-lettered,
 * or (when the worker is stopping) left unacked for the next owner.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

/** Wraps a handler with one concern (retry, dead-letter, tracing, metrics...). */
export type DeliveryMiddleware = (next: DeliveryHandler) => DeliveryHandler;

/** `compose(handler, a, b)` runs `a(b(handler))`: the first middleware is the outermost. */
export function composeHandler(
  handler: DeliveryHandler,
  ...middleware: DeliveryMiddleware[]
): DeliveryHandler {
  return middleware.reduceRight((next, wrap) => wrap(next), handler);
}
