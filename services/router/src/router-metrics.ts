import { routerDeadLetterTarget } from '@fuze/core';
import type { DeliveryPlan } from '@fuze/routing';
import { fuzeMetrics } from '@fuze/telemetry';

/**
 * The router's counters, kept here for in-process inspection and exported to Prometheus:
 * `fuze_events_matched_total{bus,rule}`, `fuze_events_unmatched_total{bus}` and
 * `fuze_dead_lettered_total{target,stage="route"}` (`{target="_router",stage="plan"}` for an event
 * that could not be planned) and `fuze_events_unreadable_total`. `routedPerBus` and
 * `matchedPerRule` also feed the router's live report (RoutingStats, GET /v1/buses).
 */
export class RouterCounters {
  routed = 0;
  unmatched = 0;
  deliveries = 0;
  deadLettered = 0;
  readonly matchedPerRule = new Map<string, number>();
  readonly routedPerBus = new Map<string, number>();

  unreadableSkipped(): void {
    fuzeMetrics.eventsUnreadable.inc();
  }

  record(plan: DeliveryPlan, bus: string): void {
    this.routed++;
    this.routedPerBus.set(bus, (this.routedPerBus.get(bus) ?? 0) + 1);
    if (plan.matchedRules.length === 0) {
      this.unmatched++;
      fuzeMetrics.eventsUnmatched.inc({ bus });
    }
    for (const { target, deadLettered } of plan.routes) {
      if (!deadLettered) {
        this.deliveries++;
        continue;
      }
      this.deadLettered++;
      fuzeMetrics.deadLettered.inc({ target, stage: target === routerDeadLetterTarget ? 'plan' : 'route' });
    }
    for (const rule of plan.matchedRules) {
      const key = `${bus}/${rule}`;
      this.matchedPerRule.set(key, (this.matchedPerRule.get(key) ?? 0) + 1);
      fuzeMetrics.eventsMatched.inc({ bus, rule });
    }
  }
}
