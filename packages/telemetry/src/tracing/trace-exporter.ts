import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TraceExporterChoice } from './tracing-plan.js';

/**
 * The official span exporter for one OTEL_TRACES_EXPORTER choice, loaded only when chosen.
 * Endpoint, headers, timeout, compression and certificates come from OTEL_EXPORTER_OTLP_*, read
 * by the exporter itself.
 */
export async function createTraceExporter(choice: TraceExporterChoice): Promise<SpanExporter> {
  if (choice.kind === 'console') {
    const { ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
    return new ConsoleSpanExporter();
  }
  switch (choice.protocol) {
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  }
}
