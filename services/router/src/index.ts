export { routerModule } from './module.js';
export { type DeliveryPlan, type EventContext, planDeliveries } from './plan-deliveries.js';
export { type BusRules, loadRuleSnapshot, type RuleSnapshot } from './rule-book.js';
export type { RulesChangedNotice } from './rule-refresher.js';
