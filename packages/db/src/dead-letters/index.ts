export * from './create-replay-job.js';
export * from './dead-letter-rows.js';
export * from './index-dead-letters.js';
export * from './purge-dead-letters.js';
export * from './read-dead-letters.js';
export * from './run-replay-jobs.js';
