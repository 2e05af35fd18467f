import { createHash } from 'node:crypto';

/**
 * What goes to `<p>.dlq.<target>` (JSON) when a delivery is given up on, and what the Postgres
 * index rows are built from. The envelope is kept whole so a replay re-sends exactly what failed.
 */
export interface DeadLetterRecord {
  /** Stable per event, rule and target: a retried dead-lettering is deduplicated. */
  id: string;
  bus: string;
  rule: string;
  target: string;
  /** The matched event's attributes (type, source, id, ...), as strings. */
  attributes: Record<string, string>;
  /** What the target was to receive, base64, and its content type. */
  body: string;
  contentType: string;
  partitionKey?: string;
  /** Sequence of the event in the events stream (the archive), when known. */
  eventSeq?: number;
  /** When the bus accepted the event (epoch ms). */
  acceptedAt: number;
  failure: DeliveryFailure;
  /** W3C trace context of the failed delivery, so the DLQ entry links to its trace. */
  traceparent?: string;
  deadLetteredAt: string;
  /** Set when the failed delivery was itself a replay. */
  replay?: { jobId: string; deadLetterId: string };
}

export interface DeliveryFailure {
  /**
   * `plan`: the router could not plan the event's deliveries at all (target `_router`; a replay
   * routes the event again); `route`: it could not build one target's delivery (e.g. the input
   * transformer); `deliver`: the target failed.
   */
  stage: 'plan' | 'route' | 'deliver';
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  /** e.g. `HttpStatusError`, `TimeoutError`, `ConnectionError`, `NonRetryableError`, `InputTransformError`. */
  errorClass: string;
  message: string;
  retryable: boolean;
  httpStatus?: number;
  /** At most 1 KiB of the response body. */
  responseExcerpt?: string;
}

export function deadLetterId(
  event: { source: string; id: string },
  rule: string,
  target: string,
  replayJob?: string,
): string {
  const hash = createHash('sha256')
    .update('dead-letter\u0000')
    .update(event.source)
    .update('\u0000')
    .update(event.id);
  hash.update('\u0000').update(rule).update('\u0000').update(target);
  if (replayJob) hash.update('\u0000').update(replayJob);
  return hash.digest('base64url').slice(0, 26);
}

export const maxResponseExcerptBytes = 1024;

/**
 * The target of a `plan`-stage dead letter: the router itself, when it could not tell which
 * rules and targets an event goes to. Rule target names cannot start with `_`.
 */
export const routerDeadLetterTarget = '_router';
