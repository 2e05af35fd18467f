export { type DocumentError, formatDocumentError } from './document-error.js';
export {
  API_VERSION,
  type BusDocument,
  type CircuitBreakerPolicy,
  type ConsumerTargetSpec,
  DEFAULT_RETRY_POLICY,
  type DocumentSource,
  type FuzeDocument,
  type HttpDelivery,
  type HttpTargetSpec,
  type MisfirePolicy,
  type NatsDelivery,
  type NatsTargetSpec,
  type OrderingSpec,
  type RateLimitPolicy,
  type RetryPolicy,
  type RuleDocument,
  type ScheduleDocument,
  type ScheduledEvent,
  type ScheduleTiming,
  type TargetSpec,
} from './document-types.js';
export { DURATION_REGEX, formatDuration, parseDuration } from './duration.js';
export { DEFAULT_HTTP_TIMEOUT_MS } from './http-target.js';
export { loadRuleDirectory } from './load-rule-directory.js';
export { DEFAULT_BUS } from './metadata.js';
export { MAX_NAME_LENGTH, NAME_REGEX } from './names.js';
export { DEFAULT_PARTITIONS, MAX_PARTITIONS } from './ordering-spec.js';
export { type ParsedDocuments, parseRuleDocuments } from './parse-rule-documents.js';
export { MAX_ATTEMPTS } from './retry-policy.js';
export { MAX_TARGETS } from './rule-spec.js';
