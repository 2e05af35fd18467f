// One file per concern; drizzle-kit reads them all through this index.
export * from './api-keys.js';
export * from './dead-letters.js';
export * from './event-schemas.js';
export * from './rules.js';
export * from './timers.js';
