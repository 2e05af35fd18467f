// The error model and event types of @fuze/core, so callers need not depend on it.
export {
  type CloudEventInput,
  type CloudEventRecord,
  type ErrorCode,
  type EventProblem,
  FuzeError,
  isFuzeError,
} from '@fuze/core';
export * from './consumer.js';
export { createPublisher } from './create-publisher.js';
export { isPublishRejected, PublishRejectedError } from './errors.js';
export type { PublisherOptions } from './options.js';
export * from './processor.js';
export type {
  BatchEntryResult,
  BatchResult,
  Publisher,
  PublishInput,
  PublishResult,
} from './publisher.js';
export * from './timers-client.js';
export * from './windows.js';
