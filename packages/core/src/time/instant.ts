import { parseDuration } from './duration.js';
import { isRfc3339DateTime } from './rfc3339.js';

/** How every message about a time a user wrote ends. */
export const instantHint = 'write RFC 3339 with a zone, e.g. 2030-01-01T09:00:00Z';

/**
 * The instant a user names (a timer's `at`, an event's `deliverat`, a schedule's `at`), as epoch
 * milliseconds: an RFC 3339 date-time with its zone (the one check of {@link isRfc3339DateTime}),
 * or undefined. A time without a zone is refused, since it would depend on the machine reading it;
 * so is a leap second (23:59:60), which a JavaScript time cannot hold.
 */
export function parseInstant(text: string): number | undefined {
  if (!isRfc3339DateTime(text)) return undefined;
  // Date.parse reads every other form the check accepts except a bare-hour offset (`+01`).
  const ms = Date.parse(/[+-]\d\d$/.test(text) ? `${text}:00` : text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A point in the past a user names for reading history (a tail's `since`, an archive replay's
 * window): an RFC 3339 time, `now`, or a duration ago (`90m`, `2h`, `7d`), as epoch milliseconds;
 * undefined when it is none of these.
 */
export function parseInstantOrAgo(text: string, now: number): number | undefined {
  if (text === 'now') return now;
  const at = parseInstant(text);
  if (at !== undefined) return at;
  try {
    return now - parseDuration(text);
  } catch {
    return undefined;
  }
}
