/**
 * What the delivery engine counts, as calls rather than a metrics library: the dispatcher counts
 * into Prometheus (prometheusDeliveryMetrics), while an SDK consumer inside an application counts
 * nothing by default, so the SDK does not bring prom-client into the application's process.
 */
export interface DeliveryMetrics {
  /** A delivery succeeded; `latencySeconds` from the event's acceptance, when known. */
  delivered(target: string, latencySeconds: number | undefined): void;
  /** A second or later attempt starts. */
  retried(target: string): void;
  /** A delivery was stored in the dead-letter stream. */
  deadLettered(target: string): void;
  /** The target's circuit breaker changed state, as this worker learnt it. */
  breakerState?(target: string, state: 'closed' | 'open' | 'half-open'): void;
}

export const uncountedDeliveries: DeliveryMetrics = {
  delivered() {},
  retried() {},
  deadLettered() {},
};
