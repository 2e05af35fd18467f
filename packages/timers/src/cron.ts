import { isTimeZone, timeZoneProblem } from '@fuze/core';
import { Cron } from 'croner';

/**
 * Five-field cron (minute hour day-of-month month day-of-week, crontab(5)) or an @macro, in an
 * IANA time zone. Day-of-month and day-of-week combine with OR, as in Vixie cron.
 *
 * Daylight-saving changes follow Vixie cron: a fixed-time job (no `*` or step in minute and hour,
 * e.g. `30 2 * * *`) whose time falls in a spring-forward gap runs at the first valid time after
 * the gap, and runs once when a fall-back repeats its time; an interval job (`*\/15 * * * *`,
 * `0 * * * *`) follows real time: it skips the times of the gap and runs on both occurrences of a
 * repeated hour.
 */
export interface CronSchedule {
  /** The first due time strictly after `afterMs`, or undefined when the expression never fires again. */
  nextAfter(afterMs: number): number | undefined;
}

const cache = new Map<string, CronSchedule>();
const CACHE_LIMIT = 1_000;

/** Throws an Error with croner's explanation when the expression or zone is invalid. */
export function compileCron(expression: string, timezone: string): CronSchedule {
  const cacheKey = `${timezone}\u0000${expression}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  assertTimezone(timezone);
  const cron = new Cron(expression.trim(), {
    timezone,
    mode: '5-part',
    domAndDow: false,
    fixedTimeRule: 'no-wildcard',
    paused: true,
  });
  const compiled: CronSchedule = {
    nextAfter(afterMs) {
      return cron.nextRun(new Date(afterMs))?.getTime() ?? undefined;
    },
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(cacheKey, compiled);
  return compiled;
}

/** Throws when `timezone` is not an IANA zone the runtime knows. */
export function assertTimezone(timezone: string): void {
  if (!isTimeZone(timezone)) throw new Error(timeZoneProblem(timezone));
}
