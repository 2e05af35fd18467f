import { FuzeError } from '@fuze/core';

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export type TraceExporterChoice = { kind: 'otlp'; protocol: OtlpProtocol } | { kind: 'console' };

/** What the standard OTEL_* variables ask for; decided before any SDK code is loaded. */
export type TracingPlan =
  | { enabled: false; reason: string }
  | { enabled: true; serviceName: string; exporters: TraceExporterChoice[] };

type Env = Readonly<Record<string, string | undefined>>;

const protocols: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/**
 * Reads the standard variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):
 *
 * - `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER=none`: no tracing.
 * - `OTEL_TRACES_EXPORTER`: a comma list of `otlp` and `console`. When unset, tracing is on (OTLP)
 *   only if `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set: Fuze never
 *   sends spans to a default address nobody configured, and with no exporter it registers no SDK.
 * - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc`,
 *   `http/protobuf` (default) or `http/json`.
 * - `OTEL_SERVICE_NAME`, else `defaultServiceName`.
 *
 * The sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), the batch processor (`OTEL_BSP_*`),
 * endpoints, headers, timeouts and resource attributes are read by the OTel SDK itself.
 * Throws FUZE_CONFIG_INVALID naming every bad variable at once.
 */
export function tracingPlan(env: Env, defaultServiceName: string): TracingPlan {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  }
  const problems: string[] = [];
  const names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  const protocolVar = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (env[protocolVar]?.trim() || 'http/protobuf') as OtlpProtocol;
  if (!protocols.includes(protocol)) {
    problems.push(`${protocolVar}="${env[protocolVar]}" is invalid: use ${protocols.join(', ')}`);
  }
  const exporters: TraceExporterChoice[] = [];
  if (names.length === 0) {
    if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) {
      return { enabled: false, reason: 'no trace exporter configured' };
    }
    exporters.push({ kind: 'otlp', protocol });
  } else if (!names.includes('none')) {
    for (const name of new Set(names)) {
      if (name === 'otlp') exporters.push({ kind: 'otlp', protocol });
      else if (name === 'console') exporters.push({ kind: 'console' });
      else problems.push(`OTEL_TRACES_EXPORTER: "${name}" is not supported: use otlp, console or none`);
    }
  }
  if (problems.length > 0) throw new FuzeError('FUZE_CONFIG_INVALID', problems.join('; '));
  if (exporters.length === 0) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  return { enabled: true, serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName, exporters };
}
