import type { DeliveryPlan } from './plan-deliveries.js';

/** Plain counters; the observability layer exports them. */
export class RouterCounters {
  routed = 0;
  unmatched = 0;
  deliveries = 0;
  deadLettered = 0;
  readonly matchedPerRule = new Map<string, number>();

  record(plan: DeliveryPlan, bus: string): void {
    this.routed++;
    if (plan.matchedRules.length === 0) this.unmatched++;
    this.deliveries += plan.publishes.length - plan.deadLetters;
    this.deadLettered += plan.deadLetters;
    for (const rule of plan.matchedRules) {
      const key = `${bus}/${rule}`;
      this.matchedPerRule.set(key, (this.matchedPerRule.get(key) ?? 0) + 1);
    }
  }
}
