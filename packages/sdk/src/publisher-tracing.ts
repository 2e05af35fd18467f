import type { CloudEventRecord } from '@fuze/core';
import {
  destinations,
  endSpan,
  eventSpanParent,
  publishSpan,
  type Span,
  setEventTraceContext,
} from '@fuze/telemetry';

/**
 * The producer span of one published event (`publish fuze.events`), made only when the
 * application registered an OpenTelemetry tracer provider (`tracingActive()`). Its parent is the
 * event's own `traceparent` if it has one, else the application's active span; an event without a
 * `traceparent` gets this span's, so the trace follows it through the bus to every target.
 * `event` must be the SDK's own copy (`completeEvent`), never the caller's object.
 */
export function startPublishSpan(event: CloudEventRecord, bus: string): Span {
  const { parent, links, ownTrace } = eventSpanParent(event);
  const span = publishSpan(destinations.events, undefined, event, {
    parent,
    ...(links ? { links } : {}),
    bus,
  });
  if (!ownTrace) setEventTraceContext(event, span);
  return span;
}

/** Ends a publish span: ok, or with the error that kept the event from being stored. */
export function endPublishSpan(span: Span, error?: unknown): void {
  endSpan(span, error);
}
