import { formatDuration } from '@fuze/core';
import type { TimerRow } from '@fuze/db';

/** A timer as the API shows it (the shape of `timerSchema`). */
export function timerView(timer: TimerRow) {
  const s = timer.schedule;
  const schedule =
    s.kind === 'at'
      ? { kind: s.kind, at: s.at, ...(s.delayMs === undefined ? {} : { delay: formatDuration(s.delayMs) }) }
      : s.kind === 'cron'
        ? { kind: s.kind, cron: s.cron, timezone: s.timezone }
        : { kind: s.kind, rate: formatDuration(s.rateMs) };
  return {
    key: timer.key,
    bus: timer.bus,
    origin: timer.origin,
    state: timer.state,
    event: timer.event,
    schedule,
    misfire: timer.misfire,
    misfireGrace: formatDuration(timer.misfireGraceMs),
    nextFireAt: iso(timer.nextFireAt),
    lastDueAt: iso(timer.lastDueAt),
    lastFiredAt: iso(timer.lastFiredAt),
    fireCount: timer.fireCount,
    generation: timer.generation,
    lastError: timer.lastError,
    lastOutcome: timer.lastOutcome,
    rearm:
      timer.rearm === null
        ? null
        : { after: formatDuration(timer.rearm.afterMs), times: timer.rearm.times, done: timer.rearm.done },
    createdAt: timer.createdAt.toISOString(),
    updatedAt: timer.updatedAt.toISOString(),
  };
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
