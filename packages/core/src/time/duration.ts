import { FuzeError } from '../errors/index.js';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;

/** Parses `250ms`, `5s`, `5m`, `24h`, `7d` and combinations such as `1h30m` into milliseconds. */
export function parseDuration(text: string): number {
  let rest = text.trim();
  if (rest === '')
    throw new FuzeError('FUZE_INVALID_REQUEST', 'duration is empty: use e.g. 500ms, 5s, 5m, 24h, 7d');
  let total = 0;
  while (rest.length > 0) {
    const m = durationPattern.exec(rest);
    if (!m) {
      throw new FuzeError(
        'FUZE_INVALID_REQUEST',
        `"${text}" is not a duration: use a number and a unit (ms, s, m, h, d), e.g. 500ms, 5s, 1h30m, 7d`,
      );
    }
    total += Number(m[1]) * unitMs[m[2] as keyof typeof unitMs];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

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
