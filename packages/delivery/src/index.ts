// Public entry of @fuze/delivery: re-exports only.
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@fuze/rules';
export { retryDelay } from './backoff.js';
export { type BreakerState, CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
export { circuitBreakerMiddleware } from './circuit-breaker-middleware.js';
export { concurrencyLimit } from './concurrency-limit.js';
export {
  type DeadLetterOptions,
  type DeadLetterSink,
  deadLetterMiddleware,
} from './dead-letter-middleware.js';
export { buildDeadLetterRecord } from './dead-letter-record.js';
export { composeHandler, type Delivery, type DeliveryHandler, type DeliveryMiddleware } from './delivery.js';
export { deliveryConsumerName } from './delivery-consumers.js';
export { type DeliveryMetrics, uncountedDeliveries } from './delivery-metrics.js';
export { deliveryTelemetry } from './delivery-telemetry.js';
export {
  DeliveryAbortedError,
  DeliveryError,
  type DeliveryErrorOptions,
  describeFailure,
  type FailureDescription,
  isDeliveryAborted,
  NonRetryableError,
  RetryAfterError,
  truncateUtf8,
} from './errors.js';
export { jetStreamDeadLetterSink } from './jetstream-dead-letter-sink.js';
export { KeyedQueue } from './keyed-queue.js';
export { prometheusDeliveryMetrics } from './prometheus-delivery-metrics.js';
export { rateLimitMiddleware } from './rate-limit-middleware.js';
export { type RetryOptions, retryMiddleware } from './retry-middleware.js';
export { ServerClock } from './server-clock.js';
export { type HeldSlot, SharedConcurrency, type SharedConcurrencyOptions } from './shared-concurrency.js';
export { sharedConcurrencyMiddleware } from './shared-concurrency-middleware.js';
export { SharedRateLimit, type SharedRateLimitOptions } from './shared-rate-limit.js';
export {
  type FlowSettings,
  type PartitionLifecycle,
  TargetConsumer,
  type TargetConsumerOptions,
} from './target-consumer.js';
export {
  latencyBucketsMs,
  TargetStats,
  type TargetStatsOptions,
  type TargetWorkerStats,
  targetStatsKey,
} from './target-stats.js';
export { type DeliveryTuning, defaultDeliveryTuning } from './tuning.js';
