import type { DeadLetterRecord } from '@fuze/core';
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

/**
 * Publishes one replayed delivery. While tracing is on, the replay starts a NEW trace: a root
 * `publish fuze.deliver` span (PRODUCER) with a span link to the failed delivery's trace (the
 * record's `traceparent`, i.e. its `publish fuze.dlq` span), injected into the delivery's
 * `traceparent` header so the dispatcher continues the replay's trace. The event's own
 * `ce-traceparent` is left as it is. Counts `fuze_replayed_total{target}` once stored.
 */
export async function publishReplay(
  publisher: Publisher,
  request: PublishRequest,
  record: DeadLetterRecord,
  jobId: string,
  target: string,
): Promise<void> {
  if (!tracingActive()) {
    await publisher.publish(request);
    fuzeMetrics.replayed.inc({ target });
    return;
  }
  const span = publishSpan(destinations.deliver, request.subject, record.attributes, {
    root: true,
    links: linkFrom(record.traceparent, { 'fuze.replay.job': jobId }),
    ...(record.bus ? { bus: record.bus } : {}),
    ...(record.rule ? { rule: record.rule } : {}),
    target,
    attributes: { 'fuze.replay.job': jobId, 'fuze.dead_letter.id': record.id },
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
