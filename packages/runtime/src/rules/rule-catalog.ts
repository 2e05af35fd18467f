import { type FuzeDb, listStoredBuses, listStoredRules } from '@fuze/db';
import { type BusDocument, DEFAULT_PARTITIONS, type RuleDocument, type TargetSpec } from '@fuze/rules';

/** A stored rule with its document as `fuze apply` validated it. */
export interface CatalogRule {
  readonly bus: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly revision: number;
  readonly document: RuleDocument;
}

/** A bus as stored: the revision of its rules and settings, and its `kind: Bus` document. */
export interface CatalogBus {
  readonly bus: string;
  readonly revision: number;
  readonly document: BusDocument | undefined;
}

/**
 * The stored rules and the targets they name, read once: the one typed reader of the rules table
 * for the router, the dispatchers and the admin's replays.
 */
export interface RuleCatalog {
  /** Every stored rule, enabled or not, by bus then name. */
  readonly rules: readonly CatalogRule[];
  /**
   * Every target by name. Names are global (one name, one definition); should two rules
   * disagree, which apply refuses, the first by bus and rule name wins.
   */
  readonly targets: ReadonlyMap<string, TargetSpec>;
  /** Every bus with rules or a `kind: Bus` document: its revision and its document, if any. */
  readonly buses: readonly CatalogBus[];
  rule(bus: string, name: string): CatalogRule | undefined;
  /** The target's partition count (`ordering.partitions`, default 16). */
  partitionsOf(target: string): number;
}

export async function loadRuleCatalog(db: FuzeDb): Promise<RuleCatalog> {
  const rules: CatalogRule[] = [];
  const byKey = new Map<string, CatalogRule>();
  const targets = new Map<string, TargetSpec>();
  for (const stored of await listStoredRules(db)) {
    // The documents were validated by `fuze apply` before they were stored.
    const rule: CatalogRule = { ...stored, document: stored.document as unknown as RuleDocument };
    rules.push(rule);
    byKey.set(ruleKey(rule.bus, rule.name), rule);
    for (const target of rule.document.targets ?? []) {
      if (!targets.has(target.name)) targets.set(target.name, target);
    }
  }
  // Documents validated by `fuze apply`, like the rules.
  const buses = (await listStoredBuses(db)).map(
    (b): CatalogBus => ({
      bus: b.bus,
      revision: b.revision,
      document: (b.document ?? undefined) as unknown as BusDocument | undefined,
    }),
  );
  return {
    rules,
    buses,
    targets,
    rule: (bus, name) => byKey.get(ruleKey(bus, name)),
    partitionsOf: (name) => targets.get(name)?.ordering?.partitions ?? DEFAULT_PARTITIONS,
  };
}

function ruleKey(bus: string, rule: string): string {
  return `${bus}\u0000${rule}`;
}
