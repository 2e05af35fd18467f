export { routerModule } from './module.js';
export {
  type DeliveryPlan,
  type EventContext,
  type PlannedRoute,
  planDeliveries,
} from './plan-deliveries.js';
export { type BusRules, type RuleSnapshot, ruleSnapshotOf } from './rule-book.js';
