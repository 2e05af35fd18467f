import { instantHint, isTimeZone, parseInstant, timeZoneProblem } from '@fuze/core';
import { compileCron } from '@fuze/timers';
import type { FieldPath } from './document-location.js';
import type { MisfirePolicy, ScheduledEvent, ScheduleTiming } from './document-types.js';
import {
  checkKnownFields,
  type Mapping,
  readBoolean,
  readDuration,
  readEnum,
  readMapping,
  readString,
} from './field-readers.js';
import type { Problems } from './problems.js';
import { readScheduledEvent } from './scheduled-event.js';

const timingFields = ['at', 'delay', 'cron', 'rate'] as const;
const scheduleSpecFields = ['enabled', 'key', 'event', ...timingFields, 'timezone', 'misfire'];
const DAY = 86_400_000;
const MAX_KEY_LENGTH = 256;

export interface ScheduleSpec {
  readonly enabled: boolean;
  readonly key: string | undefined;
  readonly event: ScheduledEvent;
  readonly timing: ScheduleTiming;
  readonly misfire: MisfirePolicy;
}

/** The scheduler's own cron grammar (croner's), so YAML accepts exactly what can fire. */
function checkCronExpression(expression: string): string | undefined {
  try {
    compileCron(expression, 'UTC');
    return undefined;
  } catch (err) {
    return `"${expression}" is not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

function checkTimestamp(text: string): string | undefined {
  return parseInstant(text) === undefined ? `"${text}" is not a timestamp: ${instantHint}` : undefined;
}

function checkTimezone(zone: string): string | undefined {
  return isTimeZone(zone) ? undefined : timeZoneProblem(zone);
}

function readTiming(spec: Mapping, path: FieldPath, problems: Problems): ScheduleTiming | undefined {
  const present = timingFields.filter((field) => spec[field] !== undefined);
  if (present.length === 0) {
    problems.add(path, 'a schedule needs exactly one of at, delay, cron or rate');
    return undefined;
  }
  for (const extra of present.slice(1)) {
    problems.add(
      [...path, extra],
      `a schedule has exactly one of at, delay, cron or rate; this one already has ${present[0]}`,
      'key',
    );
  }
  const kind = present[0];
  if (spec['timezone'] !== undefined && kind !== 'cron') {
    problems.add([...path, 'timezone'], 'timezone applies to cron schedules only', 'key');
  }
  if (kind === 'at') {
    const at = readString(spec, 'at', path, problems, { check: checkTimestamp });
    return at === undefined ? undefined : { kind, at };
  }
  if (kind === 'delay') {
    const delay = readDuration(spec, 'delay', path, problems, { min: 1, max: 365 * DAY, fallback: 0 });
    return delay.valid ? { kind, delayMs: delay.ms } : undefined;
  }
  if (kind === 'rate') {
    const rate = readDuration(spec, 'rate', path, problems, { min: 1_000, max: 365 * DAY, fallback: 0 });
    return rate.valid ? { kind, rateMs: rate.ms } : undefined;
  }
  const cron = readString(spec, 'cron', path, problems, { check: checkCronExpression });
  const timezone = readString(spec, 'timezone', path, problems, { check: checkTimezone }) ?? 'UTC';
  return cron === undefined ? undefined : { kind: 'cron', cron: cron.trim(), timezone };
}

/** `spec:` of a Schedule. */
export function readScheduleSpec(raw: unknown, problems: Problems): ScheduleSpec | undefined {
  const path: FieldPath = ['spec'];
  if (raw === undefined) {
    problems.add(path, '"spec" is required, with an event and one of at, delay, cron or rate');
    return undefined;
  }
  const spec = readMapping(raw, path, problems, '{ event: {...}, cron: "0 9 * * *" }');
  if (!spec) return undefined;
  checkKnownFields(spec, path, scheduleSpecFields, problems);
  const enabled = readBoolean(spec, 'enabled', path, problems, true);
  const key = readString(spec, 'key', path, problems, {
    maxLength: MAX_KEY_LENGTH,
    check: (text) => (text.trim() === '' ? 'cannot be empty' : undefined),
  });
  const event = readScheduledEvent(spec['event'], [...path, 'event'], problems);
  const timing = readTiming(spec, path, problems);
  const misfire = readEnum(spec, 'misfire', path, problems, ['fire-once', 'fire-all', 'skip'], 'fire-once');
  if (!event || !timing) return undefined;
  return { enabled, key, event, timing, misfire };
}
