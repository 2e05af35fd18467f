export * from './fire-due-timers.js';
export * from './hold-events.js';
export * from './list-timers.js';
export * from './timer-outcomes.js';
export * from './timer-rows.js';
export * from './write-timers.js';
