// Public entry of @fuze/telemetry: re-exports only.
export type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';
export { traceLogFields } from './logs/trace-log-fields.js';
export {
  collectProcessMetrics,
  type DeliveryOutcome,
  fuzeMetrics,
  metricsRegistry,
  renderMetrics,
} from './metrics/fuze-metrics.js';
export {
  readStreamStats,
  type StreamStats,
  type StreamStatsReader,
  setStreamStatsReader,
} from './metrics/stream-stats.js';
export { activeContext, contextWithSpan, withSpan } from './tracing/active-span.js';
export * as attributes from './tracing/attributes.js';
export {
  type Destination,
  deadLetterSpan,
  deliverySpan,
  destinations,
  type EventIdentity,
  endHttpSpan,
  endSpan,
  processSpan,
  publishSpan,
  receiveSpan,
  requestSpan,
  type ServerRequest,
  type SpanStart,
  serverRequestAttributes,
} from './tracing/messaging-spans.js';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './tracing/start-telemetry.js';
export { SyncContextManager } from './tracing/sync-context-manager.js';
export {
  type EventTraceAttributes,
  eventSpanParent,
  extractMessageContext,
  extractTraceContext,
  formatTraceparent,
  type HeaderLookup,
  type HeaderRecord,
  injectTraceContext,
  linkFrom,
  parseEventTraceContext,
  parseTraceparent,
  setEventTraceContext,
  withEventContext,
} from './tracing/trace-context.js';
export { createTraceExporter } from './tracing/trace-exporter.js';
export { fuzeTracer, instrumentationScope, tracingActive } from './tracing/tracer.js';
export {
  type OtlpProtocol,
  type TraceExporterChoice,
  type TracingPlan,
  tracingPlan,
} from './tracing/tracing-plan.js';
