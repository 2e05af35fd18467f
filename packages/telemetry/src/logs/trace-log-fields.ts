import { setProcessLogMixin } from '@fuze/core';
import { type Context, context, type Span, trace } from '@opentelemetry/api';

/**
 * `trace_id`, `span_id` and `trace_flags` of a span, so logs and traces of one event join up:
 * of `from` (a span or a context) when given, else of the active span (`withSpan`); undefined
 * when there is none. Without an argument it is the pino mixin `startTelemetry` installs on every
 * logger; with one, spread it into a line about an event: `logger.warn({ ...traceLogFields(span), err }, ...)`.
 */
export function traceLogFields(from?: Span | Context): Record<string, unknown> | undefined {
  const span =
    from === undefined ? trace.getSpan(context.active()) : isSpan(from) ? from : trace.getSpan(from);
  if (!span) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags & 1 ? '01' : '00' };
}

/** Adds (or removes) the trace fields on every logger of the process; `startTelemetry` calls it. */
export function setTraceLogFields(on: boolean): void {
  setProcessLogMixin(on ? traceLogFields : undefined);
}

function isSpan(value: Span | Context): value is Span {
  return typeof (value as Span).spanContext === 'function';
}
