import { HELD_EVENT_KEY_PREFIX } from './firing-event.js';

/**
 * A timer key: 1-256 characters, letters, digits and `_ . : @ -`, starting with a letter, digit
 * or `_`: safe in a URL path and a log line, e.g. `cert-renew:example.com` or `user:42:trial-end`.
 */
export const timerKeyPattern = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,255}$/;
export const MAX_TIMER_KEY_LENGTH = 256;

/** Why `key` is not a timer key a user may set, or undefined when it is. */
export function timerKeyProblem(key: string): string | undefined {
  if (!timerKeyPattern.test(key)) {
    return `"${key}" is not a timer key: use 1-${MAX_TIMER_KEY_LENGTH} letters, digits and _ . : @ - (e.g. cert-renew:example.com)`;
  }
  if (key.startsWith(HELD_EVENT_KEY_PREFIX)) {
    return `keys starting with "${HELD_EVENT_KEY_PREFIX}" are reserved for events held for delayed delivery`;
  }
  return undefined;
}
