import type { Logger } from '@fuze/core';
import {
  type CompiledMatcher,
  compileInput,
  compileMatcher,
  type InputTransformer,
  type JsonPath,
  parseJsonPath,
  type TargetSpec,
} from '@fuze/rules';
import type { RuleCatalog } from '@fuze/runtime';

/** One target of a rule, ready to route to. */
export interface RoutableTarget {
  spec: TargetSpec;
  input: InputTransformer;
  /** From `ordering.partitionKey`; without it, the event's `partitionkey` extension is the key. */
  partitionKey: JsonPath | undefined;
  partitions: number;
}

export interface RoutableRule {
  name: string;
  targets: RoutableTarget[];
}

/** Every enabled rule of one bus at one revision, with one matcher compiled over all of them. */
export interface BusRules {
  revision: number;
  matcher: CompiledMatcher;
  rules: Map<string, RoutableRule>;
}

/**
 * An immutable snapshot of all buses' rules. The router swaps whole snapshots, so an event is
 * always matched against one consistent revision, never a mix.
 */
export type RuleSnapshot = ReadonlyMap<string, BusRules>;

/** Builds a snapshot from the stored rules. A rule that no longer compiles is skipped and logged. */
export function ruleSnapshotOf(catalog: Pick<RuleCatalog, 'rules'>, logger: Logger): RuleSnapshot {
  const byBus = new Map<
    string,
    { revision: number; rules: RoutableRule[]; patterns: Array<{ id: string; pattern: unknown }> }
  >();
  for (const stored of catalog.rules) {
    const bus = byBus.get(stored.bus) ?? { revision: 0, rules: [], patterns: [] };
    byBus.set(stored.bus, bus);
    bus.revision = Math.max(bus.revision, stored.revision);
    if (!stored.enabled) continue;
    const document = stored.document;
    try {
      bus.rules.push({ name: stored.name, targets: document.targets.map(routableTarget) });
      bus.patterns.push({ id: stored.name, pattern: document.pattern });
    } catch (err) {
      logger.error(
        { err, bus: stored.bus, rule: stored.name },
        'stored rule does not compile; it is skipped',
      );
    }
  }
  const snapshot = new Map<string, BusRules>();
  for (const [name, bus] of byBus) {
    snapshot.set(name, {
      revision: bus.revision,
      matcher: compileMatcher(bus.patterns),
      rules: new Map(bus.rules.map((r) => [r.name, r])),
    });
  }
  return snapshot;
}

function routableTarget(spec: TargetSpec): RoutableTarget {
  let partitionKey: JsonPath | undefined;
  if (spec.ordering?.partitionKey) {
    const parsed = parseJsonPath(spec.ordering.partitionKey);
    if (!parsed.ok) throw new Error(parsed.message);
    partitionKey = parsed.path;
  }
  return { spec, input: compileInput(spec.input), partitionKey, partitions: spec.ordering?.partitions ?? 16 };
}
