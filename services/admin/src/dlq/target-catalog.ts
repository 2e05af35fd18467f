import { type FuzeDb, listStoredRules } from '@fuze/db';
import { DEFAULT_PARTITIONS, type RuleDocument, type TargetSpec } from '@fuze/rules';

/**
 * What replays need to know about targets and rules, from the rules stored in Postgres.
 * Targets are global by name: the first definition found stands for all (rule validation keeps
 * them identical).
 */
export interface TargetCatalog {
  hasTarget(name: string): boolean;
  /** The target's partition count (`ordering.partitions`), default 16. */
  partitionsOf(target: string): number;
  /** A target as a rule defines it; undefined when the rule (or its target) no longer exists. */
  ruleTarget(bus: string, rule: string, target: string): TargetSpec | undefined;
  hasRule(bus: string, rule: string): boolean;
}

export async function loadTargetCatalog(db: FuzeDb): Promise<TargetCatalog> {
  const targets = new Map<string, TargetSpec>();
  const rules = new Map<string, RuleDocument>();
  for (const stored of await listStoredRules(db)) {
    const document = stored.document as unknown as RuleDocument;
    rules.set(ruleKey(stored.bus, stored.name), document);
    for (const target of document.targets ?? []) {
      if (!targets.has(target.name)) targets.set(target.name, target);
    }
  }
  return {
    hasTarget: (name) => targets.has(name),
    partitionsOf: (name) => targets.get(name)?.ordering?.partitions ?? DEFAULT_PARTITIONS,
    ruleTarget: (bus, rule, target) =>
      rules.get(ruleKey(bus, rule))?.targets.find((spec) => spec.name === target),
    hasRule: (bus, rule) => rules.has(ruleKey(bus, rule)),
  };
}

function ruleKey(bus: string, rule: string): string {
  return `${bus}\u0000${rule}`;
}
