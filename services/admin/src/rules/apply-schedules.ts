import { FuzeError } from '@fuze/core';
import { cancelTimersNotIn, databaseNow, type FuzeDb, lockTimers, writeTimer } from '@fuze/db';
import {
  armTimer,
  type ScheduleDeclaration,
  sameDefinition,
  scheduleDeclarationToSpec,
  type TimerSpec,
} from '@fuze/timers';

export interface ApplySchedulesResult {
  /** Keys of timers created. */
  created: string[];
  /** Keys of timers whose definition changed: re-armed (a new generation). */
  updated: string[];
  /** Keys whose definition is unchanged: left alone, neither re-armed nor re-fired. */
  unchanged: string[];
  /** Keys of YAML-declared timers no longer declared, cancelled because `prune` was set. */
  pruned: string[];
}

/**
 * Upserts the timers that `kind: Schedule` documents declare, in one transaction (all or none);
 * `fuze apply` calls it inside the transaction that applies the rules of the same files.
 * Other documents (rules) are ignored. A schedule whose definition did not change is left as it
 * is: re-applying must not re-arm a `rate` (or a `delay`) nor re-fire a one-shot that fired.
 * `enabled: false` keeps the timer with state `paused`. With `prune`, timers of the buses in
 * `prune.buses` that an earlier apply declared and these documents no longer do are cancelled
 * (their records stay).
 * Throws FUZE_INVALID_TIMER naming the document for a bad key, a cron that never fires, or a
 * key declared twice.
 */
export async function applySchedules(
  db: FuzeDb,
  documents: ReadonlyArray<ScheduleDeclaration | { readonly kind: string }>,
  options: { prune?: { buses: readonly string[] } } = {},
): Promise<ApplySchedulesResult> {
  const declarations = documents.filter((d): d is ScheduleDeclaration => d.kind === 'Schedule');
  const specs = declarations.map((d) => ({ declaration: d, spec: scheduleDeclarationToSpec(d) }));
  assertUniqueKeys(specs);
  const keys = specs.map((s) => s.spec.key);
  return db.transaction(async (tx) => {
    const result: ApplySchedulesResult = { created: [], updated: [], unchanged: [], pruned: [] };
    const nowMs = await databaseNow(tx);
    const existing = new Map((await lockTimers(tx, keys)).map((row) => [row.key, row]));
    for (const { declaration, spec } of specs) {
      const current = existing.get(spec.key);
      const unchanged =
        current !== undefined &&
        current.origin === 'schedule' &&
        current.state !== 'cancelled' &&
        (current.state === 'paused') === !declaration.enabled &&
        sameDefinition(current, spec);
      if (unchanged) {
        result.unchanged.push(spec.key);
        continue;
      }
      const armed = armTimer(spec, nowMs);
      await writeTimer(
        tx,
        {
          ...armed,
          origin: 'schedule',
          state: declaration.enabled ? 'scheduled' : 'paused',
          nextFireAtMs: declaration.enabled ? armed.nextFireAtMs : undefined,
        },
        nowMs,
      );
      (current === undefined ? result.created : result.updated).push(spec.key);
    }
    if (options.prune) result.pruned = await cancelTimersNotIn(tx, 'schedule', keys, options.prune.buses);
    return result;
  });
}

function assertUniqueKeys(specs: ReadonlyArray<{ declaration: ScheduleDeclaration; spec: TimerSpec }>): void {
  const seen = new Map<string, ScheduleDeclaration>();
  for (const { declaration, spec } of specs) {
    const first = seen.get(spec.key);
    if (first) {
      const where = (d: ScheduleDeclaration) =>
        d.source ? `${d.source.file}:${d.source.line} (${d.name})` : `Schedule ${d.name}`;
      throw new FuzeError(
        'FUZE_INVALID_TIMER',
        `${where(declaration)}: spec.key "${spec.key}" is already declared by ${where(first)}; timer keys are unique`,
        { details: { problems: [{ pointer: 'spec.key', message: 'duplicate timer key' }] } },
      );
    }
    seen.set(spec.key, declaration);
  }
}
