import type { SystemEventType } from '../system-events/system-events.js';

/** The resolved, validated and frozen configuration of one Fuze process. */
export interface FuzeConfig {
  readonly dataDir: string;
  readonly nats: {
    readonly url: string;
    /** True when FUZE_NATS_URL was not set: only then may Fuze start an embedded nats-server. */
    readonly urlIsDefault: boolean;
    readonly embedded: 'auto' | 'never';
  };
  /** Without a URL, Fuze runs embedded PGlite under `${dataDir}/pg`. */
  readonly database: { readonly url: string | undefined };
  readonly http: {
    readonly host: string;
    readonly gatewayPort: number;
    readonly adminPort: number;
    readonly metricsPort: number;
    /** A request must arrive whole within this (headers within the smaller of it and 10 s). */
    readonly requestTimeoutMs: number;
  };
  readonly auth: { readonly adminToken: string | undefined };
  readonly streams: {
    readonly prefix: string;
    readonly replicas: number;
    readonly eventsMaxAgeMs: number;
    readonly dlqMaxAgeMs: number;
    readonly dedupeWindowMs: number;
    /**
     * Routing shards the events stream is split into (`FUZE_ROUTING_SHARDS`): how many router
     * instances can route at once. Fixed once the deployment's routing bucket records it.
     */
    readonly routingShards: number;
  };
  readonly gateway: {
    readonly maxEventBytes: number;
    readonly maxBatchEvents: number;
    /** How long a request waits for JetStream to store its events before answering 503. */
    readonly publishTimeoutMs: number;
    readonly schemasDir: string;
  };
  readonly log: { readonly level: LogLevel };
  /**
   * FUZE_TRACE_URL: a trace UI's page of one trace, `{traceId}` in it (e.g. Jaeger's
   * `http://jaeger:16686/trace/{traceId}`); the web console links each dead letter's trace there.
   */
  readonly traceUrl: string | undefined;
  /** The system event types this deployment publishes on the system bus (`FUZE_SYSTEM_EVENTS`). */
  readonly systemEvents: ReadonlySet<SystemEventType>;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
