/**
 * Shape check of a five-field cron expression (minute hour day-of-month month day-of-week, as in
 * crontab(5)), or one of the @macros. The scheduler computes the firings; this only rejects what it
 * could never parse, with the field at fault.
 */
const fields = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

export const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

function fieldValue(text: string, field: (typeof fields)[number]): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const names: readonly string[] = 'names' in field ? field.names : [];
  const index = names.indexOf(text.toUpperCase());
  return index === -1 ? undefined : index + field.min;
}

function checkItem(item: string, field: (typeof fields)[number]): string | undefined {
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step)))
    return `"${item}" has an invalid step`;
  if (range === '*') return undefined;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) return `"${item}" is not a value or a range`;
  const low = fieldValue(from, field);
  const high = to === undefined ? low : fieldValue(to, field);
  if (low === undefined || high === undefined) return `"${item}" is not a value or a range`;
  if (low < field.min || high > field.max) return `"${item}" is outside ${field.min}-${field.max}`;
  if (low > high) return `"${item}" is a backwards range`;
  return undefined;
}

/** A message naming the faulty field, or undefined when the expression is well-formed. */
export function checkCronExpression(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    return CRON_MACROS.includes(trimmed) ? undefined : `"${trimmed}" is not one of ${CRON_MACROS.join(', ')}`;
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== fields.length) {
    return `"${expression}" has ${parts.length} fields; cron needs 5: minute hour day-of-month month day-of-week (e.g. "0 9 * * MON-FRI")`;
  }
  for (const [index, part] of parts.entries()) {
    const field = fields[index] as (typeof fields)[number];
    for (const item of part.split(',')) {
      const problem = checkItem(item, field);
      if (problem !== undefined) return `${field.name} field: ${problem}`;
    }
  }
  return undefined;
}
