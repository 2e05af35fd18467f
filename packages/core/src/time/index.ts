export { type Clock, systemClock } from './clock.js';
export { formatDuration, parseDuration } from './duration.js';
export { instantHint, parseInstant, parseInstantOrAgo } from './instant.js';
export { retryDelayMs } from './retry-delay.js';
export { isRfc3339DateTime } from './rfc3339.js';
export { isTimeZone, timeZoneProblem } from './time-zone.js';
