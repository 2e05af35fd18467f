export { type EventTailOptions, type RunningTail, startEventTail, type TailStart } from './event-tail.js';
export { type TailRoutesOptions, tailRoutes } from './tail-routes.js';
