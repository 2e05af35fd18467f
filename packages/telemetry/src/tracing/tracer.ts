import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope of every Fuze span. */
export const instrumentationScope = '@fuze/telemetry';

/** The API's global provider is a proxy; it has a delegate tracer only once an SDK is registered. */
type MaybeProxy = TracerProvider & { getDelegateTracer?(name: string): Tracer | undefined };

/**
 * True when some tracer provider is registered with the OTel API (by `startTelemetry`, by a test,
 * or by the application that embeds the SDK). Hot paths test this first and skip every span, attribute
 * and header when it is false, so tracing that is off costs one global lookup per hop.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider() as MaybeProxy;
  return provider.getDelegateTracer ? provider.getDelegateTracer(instrumentationScope) !== undefined : true;
}

/** Fuze's tracer: looked up through the global provider each time (cheap), so it follows (un)registration. */
export function fuzeTracer(): Tracer {
  return trace.getTracer(instrumentationScope);
}
