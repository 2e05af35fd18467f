import type { FuzeDb } from '@fuze/db';
import { DEFAULT_PARTITIONS, type TargetSpec } from '@fuze/rules';
import { loadRuleCatalog } from '@fuze/runtime';

/** Every target the rules name, by name (names are global: one name, one definition). */
export type TargetCatalog = ReadonlyMap<string, TargetSpec>;

/**
 * Reads the targets of every stored rule, enabled or not (deliveries routed before a rule was
 * disabled are still delivered). Should two rules disagree about a name, which apply refuses,
 * the first by bus and rule name wins.
 */
export async function loadTargetCatalog(db: FuzeDb): Promise<TargetCatalog> {
  return (await loadRuleCatalog(db)).targets;
}

export function partitionsOf(target: TargetSpec): number {
  return target.ordering?.partitions ?? DEFAULT_PARTITIONS;
}

/** Targets the dispatcher delivers to; `consumer` targets belong to SDK consumers. */
export function dispatchedTargets(catalog: TargetCatalog): TargetCatalog {
  return new Map([...catalog].filter(([, target]) => target.kind !== 'consumer'));
}

/** A stable text of the catalog, to tell whether a reload changed anything. */
export function catalogFingerprint(catalog: TargetCatalog): string {
  return JSON.stringify([...catalog].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
