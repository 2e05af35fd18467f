import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitFor } from './wait.js';

/** The finished spans of one trace in `exporter`, once every span named in `names` is among them. */
export function finishedSpansOf(
  exporter: InMemorySpanExporter,
  traceId: string,
  names: string[],
): Promise<ReadableSpan[]> {
  return waitFor(
    () => {
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      return names.every((n) => spans.some((s) => s.name === n)) ? spans : undefined;
    },
    { timeoutMs: 20_000, message: `spans ${names.join(', ')} of trace ${traceId}` },
  );
}

/** The one span named `name` (and matching `where`); throws unless there is exactly one. */
export function onlySpan(
  spans: ReadableSpan[],
  name: string,
  where: (s: ReadableSpan) => boolean = () => true,
): ReadableSpan {
  const found = spans.filter((s) => s.name === name && where(s));
  if (found.length !== 1) throw new Error(`expected exactly one "${name}" span, found ${found.length}`);
  return found[0]!;
}

export const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
export const spanIdOfSpan = (span: ReadableSpan) => span.spanContext().spanId;
/** The trace id and the span id of a W3C `traceparent` value. */
export const traceIdOf = (traceparent: unknown) => String(traceparent).split('-')[1];
export const spanIdOf = (traceparent: unknown) => String(traceparent).split('-')[2];
