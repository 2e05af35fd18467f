import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  // biome-ignore lint/suspicious/noDeprecatedImports: the only public way to read OTEL_EXPORTER_OTLP_* for HTTP in 0.223; exporter-trace-otlp-proto builds its exporter with it too
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type IExportTraceServiceResponse,
  type ISerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { TraceRequestEncoder } from './trace-request-encoder.js';

/**
 * The official protobuf serializer's contract with Fuze's encoder for requests (same bytes, a
 * third of the time) and the official decoder for the collector's responses.
 */
export function protobufTraceSerializer(): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  const encoder = new TraceRequestEncoder();
  return {
    serializeRequest: (spans) => encoder.encode(spans),
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}

/**
 * An OTLP span exporter, `http/protobuf` or `grpc`: the official exporter's transport, retries and
 * OTEL_EXPORTER_OTLP_* configuration (this is how `@opentelemetry/exporter-trace-otlp-proto` and
 * `-grpc` build theirs), with Fuze's serializer. Encoding each span was the largest cost of tracing
 * in the gateway (bench/README.md).
 */
export async function createProtobufTraceExporter(protocol: 'http/protobuf' | 'grpc'): Promise<SpanExporter> {
  if (protocol === 'http/protobuf') {
    return new OTLPExporterBase(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        protobufTraceSerializer(),
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
  const grpc = await import('@opentelemetry/otlp-grpc-exporter-base');
  return new OTLPExporterBase(
    grpc.createOtlpGrpcExportDelegate(
      grpc.convertLegacyOtlpGrpcOptions({}, 'TRACES'),
      protobufTraceSerializer(),
      'otlp_grpc_span_exporter',
      TraceExporterMetricsHelper,
      undefined,
      'TraceExportService',
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    ),
  );
}
