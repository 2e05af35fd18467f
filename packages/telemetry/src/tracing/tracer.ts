import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';

/** The instrumentation scope of every Fuze span. */
export const instrumentationScope = '@fuze/telemetry';

/** The API's global provider is a proxy; it has a delegate tracer only once an SDK is registered. */
type MaybeProxy = TracerProvider & {
  getDelegate?(): TracerProvider;
  getDelegateTracer?(name: string): Tracer | undefined;
};

// The tracer of the provider seen last: asking the provider for a tracer builds a key string and
// looks it up, which every hop did several times per event. Re-resolved whenever the global
// provider (or the proxy's delegate) changes, so (un)registration is still followed.
let seenProvider: TracerProvider | undefined;
let seenTracer: Tracer | undefined;

function currentTracer(): Tracer | undefined {
  const global = trace.getTracerProvider() as MaybeProxy;
  const provider = global.getDelegate ? global.getDelegate() : global;
  if (provider !== seenProvider) {
    seenProvider = provider;
    // Through a proxy without a registered SDK there is no tracer at all: tracing is off.
    seenTracer = global.getDelegateTracer
      ? global.getDelegateTracer(instrumentationScope)
      : global.getTracer(instrumentationScope);
  }
  return seenTracer;
}

/**
 * True when some tracer provider is registered with the OTel API (by `startTelemetry`, by a test,
 * or by the application that embeds the SDK). Hot paths test this first and skip every span, attribute
 * and header when it is false, so tracing that is off costs one global lookup per hop.
 */
export function tracingActive(): boolean {
  return currentTracer() !== undefined;
}

/** Fuze's tracer, from the provider registered now (the API's no-op tracer when none is). */
export function fuzeTracer(): Tracer {
  return currentTracer() ?? trace.getTracer(instrumentationScope);
}
