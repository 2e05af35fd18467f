import type { Logger } from '@fuze/core';
import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setTraceLogFields } from '../logs/trace-log-fields.js';
import { SyncContextManager } from './sync-context-manager.js';
import { createTraceExporter } from './trace-exporter.js';
import { tracingActive } from './tracer.js';
import { type TraceExporterChoice, tracingPlan } from './tracing-plan.js';

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME is set; `fuze serve` passes `fuze-<services>`. */
  serviceName: string;
  logger?: Logger;
  /**
   * Tests and benchmarks: these processors instead of the exporters OTEL_* asks for (tracing is on
   * whatever the variables say). Production configuration is the environment only.
   */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** Whether this call registered a tracer provider. */
  readonly tracing: boolean;
  /** Flushes spans still buffered, then unregisters the provider. Idempotent. */
  shutdown(): Promise<void>;
}

const off: Telemetry = { tracing: false, shutdown: async () => {} };

/**
 * Starts tracing as the standard OTEL_* variables say (see `tracingPlan`). With no exporter
 * configured it loads no SDK and registers nothing: spans are the OTel API's no-ops, and Fuze's hot
 * paths, which test `tracingActive()` first, skip even those. Also turns on trace and span ids in
 * every log line written while a span is active (`withSpan`).
 *
 * When a tracer provider is already registered (an application embedding Fuze, a test), that
 * one is used and this call changes nothing.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  if (tracingActive()) {
    setTraceLogFields(true);
    options.logger?.info('a tracer provider is already registered: Fuze reports its spans there');
    return off;
  }
  const plan = options.spanProcessors
    ? { enabled: true as const, serviceName: options.serviceName, exporters: [] }
    : tracingPlan(process.env, options.serviceName);
  if (!plan.enabled) {
    options.logger?.debug({ reason: plan.reason }, 'tracing is off');
    return off;
  }
  // Loaded only now: a process without tracing never loads the SDK or an exporter.
  const [{ NodeTracerProvider, BatchSpanProcessor }, resources, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ [ATTR_SERVICE_NAME]: plan.serviceName }))
    .merge(
      resources.detectResources({
        detectors: [resources.hostDetector, resources.processDetector, resources.envDetector],
      }),
    );
  // Host and process detectors answer asynchronously; settle them once here, not per export.
  await resource.waitForAsyncAttributes?.();
  const spanProcessors =
    options.spanProcessors ??
    (await Promise.all(plan.exporters.map(createTraceExporter))).map(
      // OTEL_BSP_* are read by BatchSpanProcessor itself.
      (exporter) => new BatchSpanProcessor(exporter),
    );
  // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on).
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  // Global provider, W3C trace-context + baggage propagators, and a synchronous context manager
  // (see SyncContextManager: Fuze passes parents explicitly; AsyncLocalStorage costs ~10% on Node 20).
  provider.register({ contextManager: new SyncContextManager() });
  setTraceLogFields(true);
  options.logger?.info(
    { serviceName: plan.serviceName, exporters: plan.exporters.map(describeExporter) },
    'tracing on',
  );
  let stopping: Promise<void> | undefined;
  return {
    tracing: true,
    shutdown() {
      stopping ??= (async () => {
        try {
          await provider.shutdown();
        } catch (err) {
          options.logger?.warn({ err }, 'could not flush the last spans');
        } finally {
          setTraceLogFields(false);
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })();
      return stopping;
    },
  };
}

function describeExporter(choice: TraceExporterChoice): string {
  return choice.kind === 'otlp' ? `otlp (${choice.protocol})` : choice.kind;
}
