import {
  assertValidCloudEvent,
  busNamePattern,
  defaultBus,
  FuzeError,
  instantHint,
  isFuzeError,
  parseDuration,
  parseInstant,
  reservedBusProblem,
} from '@fuze/core';
import { assertTimezone, compileCron } from './cron.js';
import { timerKeyProblem } from './timer-key.js';
import {
  DEFAULT_MISFIRE_GRACE_MS,
  MAX_MISFIRE_GRACE_MS,
  MAX_REARM_AFTER_MS,
  MAX_REARM_TIMES,
  MIN_RATE_MS,
  type MisfirePolicy,
  misfirePolicies,
  type RearmPolicy,
  type TimerEventTemplate,
  type TimerSchedule,
  type TimerSpec,
} from './types.js';

/** The body of `PUT /v1/timers/:key` (and what the SDK and CLI send). */
export interface TimerRequest {
  /** A CloudEvent without `id`, `specversion` and `time`: Fuze sets them at each firing. */
  event: Record<string, unknown>;
  /** Fire once at this RFC 3339 time (with a zone). */
  at?: string;
  /** Fire once this long after the put, e.g. `30s`, `15m`, `30d`. */
  delay?: string;
  /** Fire on this five-field cron expression, in `timezone` (default UTC). */
  cron?: string;
  /** IANA time zone of `cron`, e.g. Europe/Paris. */
  timezone?: string;
  /** Fire every period, e.g. `6h` (at least 1s); the first firing one period after the put. */
  rate?: string;
  /** Default `fire-once`. */
  misfire?: MisfirePolicy;
  /** How late a firing may be before it counts as a misfire; default `60s`. */
  misfireGrace?: string;
  /** Default `default`. */
  bus?: string;
  /** One-shot timers (`at`, `delay`): fire again this long after a firing whose event was dead-lettered, up to `times` (default 1). */
  rearm?: { after: string; times?: number };
}

export interface TimerProblem {
  pointer: string;
  message: string;
}

const timingFields = ['at', 'delay', 'cron', 'rate'] as const;
const MAX_DELAY_MS = 10 * 365 * 86_400_000;

/**
 * Validates a timer request and returns its spec; throws FUZE_INVALID_TIMER listing every
 * problem, each naming its field (`body.cron`, `body.event.type`, ...).
 */
export function parseTimerRequest(key: string, request: TimerRequest, pointerRoot = 'body'): TimerSpec {
  const problems: TimerProblem[] = [];
  const at = (field: string) => (pointerRoot === '' ? field : `${pointerRoot}.${field}`);
  const keyProblem = timerKeyProblem(key);
  if (keyProblem) problems.push({ pointer: 'key', message: keyProblem });

  const bus = request.bus ?? defaultBus;
  if (!busNamePattern.test(bus)) {
    problems.push({
      pointer: at('bus'),
      message: `"${bus}" is not a bus name (lower-case letters, digits, -)`,
    });
  }
  const reserved = reservedBusProblem(bus);
  if (reserved) problems.push({ pointer: at('bus'), message: reserved });
  const event = checkEventTemplate(request.event, at('event'), problems);
  const schedule = readSchedule(request, at, pointerRoot, problems);
  const misfire = request.misfire ?? 'fire-once';
  if (!misfirePolicies.includes(misfire)) {
    problems.push({ pointer: at('misfire'), message: `must be one of ${misfirePolicies.join(', ')}` });
  }
  const misfireGraceMs = readDuration(request.misfireGrace, at('misfireGrace'), problems, {
    min: 0,
    max: MAX_MISFIRE_GRACE_MS,
    fallback: DEFAULT_MISFIRE_GRACE_MS,
  });
  const rearm = readRearm(request, schedule, at, problems);
  if (problems.length > 0 || !event || !schedule) throw invalidTimer(problems);
  return { key, bus, event, schedule, misfire, misfireGraceMs, ...(rearm ? { rearm } : {}) };
}

function readRearm(
  request: TimerRequest,
  schedule: TimerSchedule | undefined,
  at: (field: string) => string,
  problems: TimerProblem[],
): RearmPolicy | undefined {
  const rearm = request.rearm;
  if (rearm === undefined) return undefined;
  if (typeof rearm !== 'object' || rearm === null) {
    problems.push({ pointer: at('rearm'), message: 'must be an object: { after: "10m", times: 3 }' });
    return undefined;
  }
  if (schedule && schedule.kind !== 'at' && schedule.kind !== 'delay') {
    problems.push({
      pointer: at('rearm'),
      message: 'applies to one-shot timers (at, delay) only: a recurring timer fires again anyway',
    });
  }
  if (typeof rearm.after !== 'string') {
    problems.push({ pointer: at('rearm.after'), message: 'is required: a duration such as 30s, 10m or 1h' });
    return undefined;
  }
  const afterMs = readDuration(rearm.after, at('rearm.after'), problems, {
    min: 1_000,
    max: MAX_REARM_AFTER_MS,
    fallback: 0,
  });
  const times = rearm.times ?? 1;
  if (!Number.isInteger(times) || times < 1 || times > MAX_REARM_TIMES) {
    problems.push({
      pointer: at('rearm.times'),
      message: `must be a whole number from 1 to ${MAX_REARM_TIMES}`,
    });
  }
  return { afterMs, times };
}

/** FUZE_INVALID_TIMER with the problems in `details.problems` (problem+json `errors`). */
export function invalidTimer(problems: TimerProblem[]): FuzeError {
  return new FuzeError(
    'FUZE_INVALID_TIMER',
    problems.map((p) => `${p.pointer || 'timer'}: ${p.message}`).join('; '),
    { details: { problems } },
  );
}

function readSchedule(
  request: TimerRequest,
  at: (field: string) => string,
  pointerRoot: string,
  problems: TimerProblem[],
): TimerSchedule | undefined {
  const present = timingFields.filter((field) => request[field] !== undefined);
  if (present.length !== 1) {
    problems.push({
      pointer: present[1] === undefined ? pointerRoot : at(present[1]),
      message:
        present.length === 0
          ? 'a timer needs exactly one of at, delay, cron or rate'
          : `a timer has exactly one of at, delay, cron or rate; this one already has ${present[0]}`,
    });
    return undefined;
  }
  const kind = present[0]!;
  if (request.timezone !== undefined && kind !== 'cron') {
    problems.push({ pointer: at('timezone'), message: 'timezone applies to cron schedules only' });
    return undefined;
  }
  switch (kind) {
    case 'at': {
      const text = request.at!;
      const atMs = parseInstant(text);
      if (atMs === undefined) {
        problems.push({ pointer: at('at'), message: `"${text}" is not a timestamp: ${instantHint}` });
        return undefined;
      }
      return { kind: 'at', at: new Date(atMs).toISOString() };
    }
    case 'delay': {
      const delayMs = readDuration(request.delay, at('delay'), problems, {
        min: 0,
        max: MAX_DELAY_MS,
        fallback: 0,
      });
      return problems.length > 0 ? undefined : { kind: 'delay', delayMs };
    }
    case 'rate': {
      const rateMs = readDuration(request.rate, at('rate'), problems, {
        min: MIN_RATE_MS,
        max: MAX_DELAY_MS,
        fallback: 0,
      });
      return problems.length > 0 ? undefined : { kind: 'rate', rateMs };
    }
    case 'cron': {
      const cron = request.cron!.trim();
      const timezone = request.timezone ?? 'UTC';
      try {
        assertTimezone(timezone);
      } catch (err) {
        problems.push({ pointer: at('timezone'), message: (err as Error).message });
        return undefined;
      }
      try {
        if (compileCron(cron, timezone).nextAfter(Date.now()) === undefined) {
          problems.push({ pointer: at('cron'), message: `"${cron}" never fires` });
          return undefined;
        }
      } catch (err) {
        problems.push({
          pointer: at('cron'),
          message: `"${cron}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"): ${(err as Error).message}`,
        });
        return undefined;
      }
      return { kind: 'cron', cron, timezone };
    }
  }
}

function readDuration(
  text: string | undefined,
  pointer: string,
  problems: TimerProblem[],
  limits: { min: number; max: number; fallback: number },
): number {
  if (text === undefined) return limits.fallback;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    problems.push({ pointer, message: isFuzeError(err) ? err.message : String(err) });
    return limits.fallback;
  }
  if (ms < limits.min || ms > limits.max) {
    problems.push({ pointer, message: `must be from ${limits.min} ms to ${limits.max} ms` });
    return limits.fallback;
  }
  return ms;
}

const filledAtFiring = ['id', 'specversion', 'time'];

/** The event template: a CloudEvent without id/specversion/time, and no delayed-delivery extensions. */
function checkEventTemplate(
  candidate: unknown,
  pointer: string,
  problems: TimerProblem[],
): TimerEventTemplate | undefined {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    problems.push({ pointer, message: 'must be a CloudEvent object with at least type and source' });
    return undefined;
  }
  const template = candidate as Record<string, unknown>;
  let ok = true;
  for (const name of filledAtFiring) {
    if (template[name] !== undefined) {
      problems.push({
        pointer: `${pointer}.${name}`,
        message: `leave ${name} out: Fuze sets it at each firing`,
      });
      ok = false;
    }
  }
  for (const name of ['deliverat', 'delay']) {
    if (template[name] !== undefined) {
      problems.push({
        pointer: `${pointer}.${name}`,
        message: 'a timer event cannot ask for delayed delivery: the timer itself sets when it fires',
      });
      ok = false;
    }
  }
  try {
    assertValidCloudEvent({ ...template, id: 'timer', specversion: '1.0' });
  } catch (err) {
    if (!isFuzeError(err)) throw err;
    const found = (err.details.problems as TimerProblem[] | undefined) ?? [
      { pointer: '', message: err.message },
    ];
    for (const p of found)
      problems.push({ pointer: p.pointer ? `${pointer}.${p.pointer}` : pointer, message: p.message });
    ok = false;
  }
  return ok ? (template as TimerEventTemplate) : undefined;
}
