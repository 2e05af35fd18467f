import type { FuzeDb } from '@fuze/db';
import type { TargetSpec } from '@fuze/rules';
import { loadRuleCatalog } from '@fuze/runtime';

/** What replays need to know about targets and rules, from the rules stored in Postgres. */
export interface TargetCatalog {
  hasTarget(name: string): boolean;
  /** The target's partition count (`ordering.partitions`), default 16. */
  partitionsOf(target: string): number;
  /** A target as a rule defines it; undefined when the rule (or its target) no longer exists. */
  ruleTarget(bus: string, rule: string, target: string): TargetSpec | undefined;
  hasRule(bus: string, rule: string): boolean;
}

export async function loadTargetCatalog(db: FuzeDb): Promise<TargetCatalog> {
  const catalog = await loadRuleCatalog(db);
  return {
    hasTarget: (name) => catalog.targets.has(name),
    partitionsOf: (name) => catalog.partitionsOf(name),
    ruleTarget: (bus, rule, target) =>
      catalog.rule(bus, rule)?.document.targets.find((spec) => spec.name === target),
    hasRule: (bus, rule) => catalog.rule(bus, rule) !== undefined,
  };
}
