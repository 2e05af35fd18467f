// Public entry of @fuze/timers: pure schedule math, no I/O.
export { assertTimezone, type CronSchedule, compileCron } from './cron.js';
export {
  HELD_EVENT_KEY_PREFIX,
  heldEventForBus,
  heldEventTimerKey,
  parseTimerEventId,
  type TimerFiring,
  timerEventId,
  timerFiringEvent,
  timerMessageId,
} from './firing-event.js';
export { canonicalJson, type StoredDefinition, sameDefinition } from './same-definition.js';
export {
  type ArmedTimer,
  armSchedule,
  armTimer,
  type DueTimer,
  type FiringPlan,
  MAX_FIRINGS_PER_CLAIM,
  nextDueAfter,
  planFiring,
} from './schedule.js';
export { type ScheduleDeclaration, scheduleDeclarationToSpec } from './schedule-declaration.js';
export { MAX_TIMER_BATCH, parseTimerBatch, type TimerBatchEntry } from './timer-batch.js';
export { MAX_TIMER_KEY_LENGTH, timerKeyPattern, timerKeyProblem } from './timer-key.js';
export { invalidTimer, parseTimerRequest, type TimerProblem, type TimerRequest } from './timer-request.js';
export {
  DEFAULT_MISFIRE_GRACE_MS,
  MAX_MISFIRE_GRACE_MS,
  MIN_RATE_MS,
  type MisfirePolicy,
  misfirePolicies,
  type ResolvedSchedule,
  type TimerEventTemplate,
  type TimerSchedule,
  type TimerSpec,
} from './types.js';
