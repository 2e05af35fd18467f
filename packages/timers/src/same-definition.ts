import type { ResolvedSchedule, TimerSpec } from './types.js';

/** What a stored timer is, as far as "did its definition change?" goes. */
export interface StoredDefinition {
  readonly bus: string;
  readonly event: unknown;
  readonly schedule: ResolvedSchedule;
  readonly misfire: string;
  readonly misfireGraceMs: number;
}

/**
 * True when applying `spec` again would change nothing: same bus, event, schedule (a `delay` is
 * the same delay, not the same due time), misfire policy and grace. Re-applying an unchanged YAML
 * schedule must not re-arm it, or a `rate: 6h` deployed hourly would never fire.
 */
export function sameDefinition(stored: StoredDefinition, spec: TimerSpec): boolean {
  return (
    stored.bus === spec.bus &&
    stored.misfire === spec.misfire &&
    stored.misfireGraceMs === spec.misfireGraceMs &&
    sameSchedule(stored.schedule, spec) &&
    canonicalJson(stored.event) === canonicalJson(spec.event)
  );
}

function sameSchedule(stored: ResolvedSchedule, spec: TimerSpec): boolean {
  const wanted = spec.schedule;
  switch (wanted.kind) {
    case 'at':
      return (
        stored.kind === 'at' &&
        stored.delayMs === undefined &&
        Date.parse(stored.at) === Date.parse(wanted.at)
      );
    case 'delay':
      return stored.kind === 'at' && stored.delayMs === wanted.delayMs;
    case 'cron':
      return stored.kind === 'cron' && stored.cron === wanted.cron && stored.timezone === wanted.timezone;
    case 'rate':
      return stored.kind === 'rate' && stored.rateMs === wanted.rateMs;
  }
}

/** JSON with object keys sorted: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
