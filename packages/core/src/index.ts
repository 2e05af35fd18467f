export * from './admin-client.js';
export type { CloudEventInput, CloudEventRecord } from './cloudevent/cloud-event.js';
export { contextAttributes } from './cloudevent/cloud-event.js';
export { eventMessageId } from './cloudevent/event-identity.js';
export {
  type JsonPath,
  type JsonPathParse,
  MAX_JSON_PATH_LENGTH,
  parseJsonPath,
} from './cloudevent/json-path.js';
export { linearRegExp } from './cloudevent/linear-regexp.js';
export {
  defaultRouting,
  defaultRoutingShards,
  type EventRouting,
  routingKeyOf,
  routingShardOf,
} from './cloudevent/routing-shard.js';
export {
  assertValidCloudEvent,
  cloudEventSchema,
  createAjv,
  describeAjvError,
  type EventProblem,
} from './cloudevent/validate-event.js';
export * from './config/index.js';
export * from './errors/index.js';
export {
  createLogger,
  type LogFn,
  type Logger,
  type LoggerOptions,
  type LogMixin,
  type PinoLogger,
  setProcessLogMixin,
} from './logger.js';
export * from './messages/index.js';
export * from './naming.js';
export { partitionFor } from './partition.js';
export * from './server-sent-events.js';
export * from './system-events/index.js';
export * from './time/index.js';
