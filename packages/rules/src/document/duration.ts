const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;

/** The JSON Schema counterpart of parseDuration's grammar (schemas/rule.schema.json uses the same). */
export const DURATION_REGEX = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';

/**
 * Parses `10ms`, `5s`, `5m`, `24h`, `7d` and combinations such as `1h30m` into milliseconds
 * (the same grammar as @fuze/core's config durations). A bare number is refused: units are never implied.
 * @throws RangeError naming the accepted forms.
 */
export function parseDuration(text: string): number {
  let rest = text.trim();
  if (rest === '') throw new RangeError('a duration cannot be empty: use e.g. 500ms, 5s, 5m, 24h, 1h30m');
  let total = 0;
  while (rest.length > 0) {
    const match = durationPattern.exec(rest);
    if (!match) {
      throw new RangeError(
        `"${text}" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 500ms, 5s, 1h30m`,
      );
    }
    total += Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
    rest = rest.slice(match[0].length);
  }
  return Math.round(total);
}

/** The shortest exact rendering of a duration, for messages: 300000 -> `5m`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', unitMs.d],
    ['h', unitMs.h],
    ['m', unitMs.m],
    ['s', unitMs.s],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
