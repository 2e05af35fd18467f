import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { readStreamStats } from './stream-stats.js';

/**
 * The one Prometheus registry of a Fuze process (`fuze serve` runs several services in one
 * process and serves one `/metrics` on FUZE_METRICS_PORT). Every metric Fuze exports is defined
 * here, once: services only increment them.
 */
export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

/** Seconds from "the bus accepted the event" to "the target acknowledged it", retries included. */
const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

export const fuzeMetrics = {
  /** Gateway. */
  eventsAccepted: new Counter({
    name: 'fuze_events_accepted_total',
    help: 'Events stored in the events stream (a duplicate is counted in fuze_events_duplicates_total instead)',
    labelNames: ['bus'] as const,
    registers,
  }),
  eventsRejected: new Counter({
    name: 'fuze_events_rejected_total',
    help: 'Events (or whole requests) refused or not stored, by error code: FUZE_INVALID_EVENT, FUZE_EVENT_TOO_LARGE, ... and FUZE_PUBLISH_TIMEOUT/FUZE_PUBLISH_FAILED when JetStream did not store them',
    labelNames: ['reason'] as const,
    registers,
  }),
  eventsDuplicate: new Counter({
    name: 'fuze_events_duplicates_total',
    help: 'Events JetStream already had (same source and id): accepted, stored once',
    labelNames: ['bus'] as const,
    registers,
  }),
  /** Admin: live tails (`GET /v1/tail`). */
  tailClients: new Gauge({
    name: 'fuze_tail_clients',
    help: 'Live tail clients connected to this admin process',
    registers,
  }),
  tailDropped: new Counter({
    name: 'fuze_tail_dropped_total',
    help: 'Live tail clients dropped because they read slower than events arrived',
    registers,
  }),
  circuitBreakerState: new Gauge({
    name: 'fuze_circuit_breaker_state',
    help: "A target's circuit breaker as this process last saw it: 0 closed, 1 open, 2 half-open (probing)",
    labelNames: ['target'],
    registers,
  }),
  circuitBreakerOpened: new Counter({
    name: 'fuze_circuit_breaker_opened_total',
    help: "Times this process saw a target's circuit breaker open",
    labelNames: ['target'],
    registers,
  }),
  /** Router. */
  eventsMatched: new Counter({
    name: 'fuze_events_matched_total',
    help: 'Events routed that matched a rule, per rule (an event matching two rules counts once for each)',
    labelNames: ['bus', 'rule'] as const,
    registers,
  }),
  eventsUnmatched: new Counter({
    name: 'fuze_events_unmatched_total',
    help: 'Events routed that matched no rule',
    labelNames: ['bus'] as const,
    registers,
  }),
  eventsUnreadable: new Counter({
    name: 'fuze_events_unreadable_total',
    help: 'Messages on an events subject that are no CloudEvent (not written by Fuze): skipped by the router',
    registers,
  }),
  /** Dispatcher and SDK consumers: one per delivery that is finished (acked). */
  deliveries: new Counter({
    name: 'fuze_deliveries_total',
    help: 'Deliveries finished, by target and outcome: delivered, or dead_lettered',
    labelNames: ['target', 'outcome'] as const,
    registers,
  }),
  deliveryRetries: new Counter({
    name: 'fuze_delivery_retries_total',
    help: 'Delivery attempts after the first (retries), by target',
    labelNames: ['target'] as const,
    registers,
  }),
  deadLettered: new Counter({
    name: 'fuze_dead_lettered_total',
    help: 'Deliveries written to the dead-letter stream, by target and stage (plan: the event could not be planned, target _router; route: could not be built; deliver: the target failed)',
    labelNames: ['target', 'stage'] as const,
    registers,
  }),
  replayed: new Counter({
    name: 'fuze_replayed_total',
    help: 'Dead letters replayed into the delivery stream, by target',
    labelNames: ['target'] as const,
    registers,
  }),
  deliveryLatency: new Histogram({
    name: 'fuze_delivery_latency_seconds',
    help: 'From the bus accepting the event to the target acknowledging the delivery, retries included, by target',
    labelNames: ['target'] as const,
    buckets: latencyBuckets,
    registers,
  }),
  /** Read from JetStream when scraped (cached briefly): see `setStreamStatsReader`. */
  consumerLag: new Gauge({
    name: 'fuze_consumer_lag',
    help: 'Messages a JetStream consumer has not acknowledged yet (pending + in flight), per stream and consumer (router shard, delivery target partition)',
    labelNames: ['stream', 'consumer'] as const,
    registers,
    async collect() {
      this.reset();
      const stats = await readStreamStats();
      for (const c of stats?.consumers ?? []) this.set({ stream: c.stream, consumer: c.consumer }, c.lag);
    },
  }),
  dlqDepth: new Gauge({
    name: 'fuze_dlq_depth',
    help: 'Dead letters stored in the dead-letter stream, per target',
    labelNames: ['target'] as const,
    registers,
    async collect() {
      this.reset();
      const stats = await readStreamStats();
      for (const d of stats?.deadLetters ?? []) this.set({ target: d.target }, d.depth);
    },
  }),
};

/** The `outcome` label values of `fuze_deliveries_total`. */
export type DeliveryOutcome = 'delivered' | 'dead_lettered';

let processMetrics = false;

/** Adds the standard process metrics (CPU, memory, event-loop lag, GC) with the `fuze_` prefix. Idempotent. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'fuze_' });
}

/** The text exposition of every metric, for `GET /metrics`. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
