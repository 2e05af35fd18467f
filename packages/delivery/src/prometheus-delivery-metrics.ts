import { fuzeMetrics } from '@fuze/telemetry';
import type { DeliveryMetrics } from './delivery-metrics.js';

/** Deliveries counted into the process's `/metrics` (fuze_deliveries_total and friends). */
export const prometheusDeliveryMetrics: DeliveryMetrics = {
  delivered(target, latencySeconds) {
    fuzeMetrics.deliveries.inc({ target, outcome: 'delivered' });
    if (latencySeconds !== undefined) fuzeMetrics.deliveryLatency.observe({ target }, latencySeconds);
  },
  retried(target) {
    fuzeMetrics.deliveryRetries.inc({ target });
  },
  deadLettered(target) {
    fuzeMetrics.deliveries.inc({ target, outcome: 'dead_lettered' });
    fuzeMetrics.deadLettered.inc({ target, stage: 'deliver' });
  },
  breakerState(target, state) {
    fuzeMetrics.circuitBreakerState.set({ target }, breakerStates[state]);
    if (state === 'open') fuzeMetrics.circuitBreakerOpened.inc({ target });
  },
};

const breakerStates = { closed: 0, open: 1, 'half-open': 2 } as const;
