export { type ApiKeyRow, findApiKey, insertApiKey, revokeApiKey } from './api-keys.js';
export * from './archive-replays/archive-replay-jobs.js';
export type { Database, FuzeDb } from './database.js';
export * from './dead-letters/index.js';
export { deleteEventSchema, listEventSchemas, putEventSchema } from './event-schemas.js';
export { openDatabase } from './open-database.js';
export {
  applyRuleChanges,
  existingRuleNames,
  getStoredRule,
  listBusRevisions,
  listStoredBuses,
  listStoredRules,
  type RuleChanges,
  type StoredBus,
  type StoredRule,
} from './rules.js';
export * as tables from './schema/index.js';
export * from './timers/index.js';
