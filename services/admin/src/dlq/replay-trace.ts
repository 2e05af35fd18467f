import {
  destinations,
  endSpan,
  fuzeMetrics,
  injectTraceContext,
  linkFrom,
  publishSpan,
  tracingActive,
} from '@fuze/telemetry';
import type { Publisher, PublishRequest } from './jetstream.js';

/** What a replayed delivery replays: a dead letter, or an event of the archive. */
export interface ReplayOrigin {
  /** The event's attributes. */
  attributes: Record<string, string>;
  /** The trace to link to: the failed delivery's (a dead letter), or the event's (the archive). */
  traceparent: string | undefined;
  bus: string;
  rule: string;
  deadLetterId?: string;
}

/**
 * Publishes one replayed delivery. While tracing is on, the replay starts a NEW trace: a root
 * `publish fuze.deliver` span (PRODUCER) with a span link to the origin's trace (a dead letter's
 * `traceparent`, i.e. its `publish fuze.dlq` span; or the archived event's own), injected into
 * the delivery's `traceparent` header so the dispatcher continues the replay's trace. The event's
 * own `ce-traceparent` is left as it is. Counts `fuze_replayed_total{target}` once stored.
 */
export async function publishReplay(
  publisher: Publisher,
  request: PublishRequest,
  origin: ReplayOrigin,
  jobId: string,
  target: string,
): Promise<void> {
  if (!tracingActive()) {
    await publisher.publish(request);
    fuzeMetrics.replayed.inc({ target });
    return;
  }
  const span = publishSpan(destinations.deliver, request.subject, origin.attributes, {
    root: true,
    links: linkFrom(origin.traceparent, { 'fuze.replay.job': jobId }),
    ...(origin.bus ? { bus: origin.bus } : {}),
    ...(origin.rule ? { rule: origin.rule } : {}),
    target,
    attributes: {
      'fuze.replay.job': jobId,
      ...(origin.deadLetterId === undefined ? {} : { 'fuze.dead_letter.id': origin.deadLetterId }),
    },
  });
  const headers: Record<string, string> = { ...request.headers };
  delete headers.traceparent;
  delete headers.tracestate;
  injectTraceContext(headers, span);
  try {
    await publisher.publish({ ...request, headers });
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
  endSpan(span);
  fuzeMetrics.replayed.inc({ target });
}
