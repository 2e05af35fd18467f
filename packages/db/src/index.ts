export { type ApiKeyRow, findApiKey, insertApiKey, revokeApiKey } from './api-keys.js';
export type { Database, FuzeDb } from './database.js';
export { listEventSchemas, putEventSchema } from './event-schemas.js';
export { openDatabase } from './open-database.js';
export * as tables from './schema/index.js';
