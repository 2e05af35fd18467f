export {
  type DeliveryPlan,
  type EventContext,
  type PlannedRoute,
  type PlanTracer,
  planDeliveries,
  planFailureDeadLetter,
} from './plan-deliveries.js';
export {
  type RoutedCounts,
  type RouterWorkerStats,
  RoutingStats,
  type RoutingStatsOptions,
  routingStatsKey,
} from './routing-stats.js';
export {
  type BusRules,
  type RoutableRule,
  type RoutableTarget,
  type RuleSnapshot,
  ruleSnapshotOf,
} from './rule-book.js';
