import { isFuzeError } from '@fuze/core';
import { invalidTimer, parseTimerRequest, type TimerProblem, type TimerRequest } from './timer-request.js';
import type { TimerSpec } from './types.js';

/** At most this many timers in one `PUT /v1/timers`: one transaction, one statement. */
export const MAX_TIMER_BATCH = 1000;

/** One entry of `PUT /v1/timers`: a timer request with its key. */
export type TimerBatchEntry = TimerRequest & { key: string };

/**
 * Validates every entry of a batch and returns their specs in order; throws FUZE_INVALID_TIMER
 * listing every problem of every entry (`timers.3.cron`, `timers.7.key`), so one round trip fixes
 * a whole file. A key may appear once: a batch is one statement, and "the last one wins" would
 * hide a mistake.
 */
export function parseTimerBatch(entries: readonly TimerBatchEntry[]): TimerSpec[] {
  const problems: TimerProblem[] = [];
  const specs: TimerSpec[] = [];
  const firstIndex = new Map<string, number>();
  entries.forEach(({ key, ...request }, i) => {
    const root = `timers.${i}`;
    const first = firstIndex.get(key);
    if (first !== undefined) {
      problems.push({
        pointer: `${root}.key`,
        message: `"${key}" is also the key of timers.${first}: one entry per key`,
      });
    } else {
      firstIndex.set(key, i);
    }
    try {
      specs.push(parseTimerRequest(key, request, root));
    } catch (err) {
      if (!isFuzeError(err, 'FUZE_INVALID_TIMER')) throw err;
      for (const problem of err.details.problems as TimerProblem[]) {
        problems.push(problem.pointer === 'key' ? { ...problem, pointer: `${root}.key` } : problem);
      }
    }
  });
  if (problems.length > 0) throw invalidTimer(problems);
  return specs;
}
