export { schedulerModule } from './module.js';
export { type RunningScheduler, type SchedulerOptions, startScheduler } from './scheduler.js';
export type { SchedulerStats } from './scheduler-stats.js';
