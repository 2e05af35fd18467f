import type { StoredBus } from '@fuze/db';
import type { BusDocument, RuleDocument } from '@fuze/rules';

/**
 * Warnings for the applied rules whose ordered targets key on something other than their bus's
 * `orderingKey`: such a target keeps per-key order only where the two keys agree (events of one
 * target key may be routed by different routing shards). Nothing is refused: the rules apply.
 * The bus's key is the one it will have after the apply: a Bus document of the same files, else
 * the stored one (unless pruned).
 */
export function orderingKeyWarnings(
  rules: readonly RuleDocument[],
  buses: readonly BusDocument[],
  stored: readonly StoredBus[],
  prunedBuses: readonly string[],
): string[] {
  const orderingKeys = new Map<string, string | undefined>();
  for (const bus of stored) {
    const key = (bus.document as { orderingKey?: unknown } | null)?.orderingKey;
    if (typeof key === 'string' && !prunedBuses.includes(bus.bus)) orderingKeys.set(bus.bus, key);
  }
  for (const bus of buses) orderingKeys.set(bus.name, bus.orderingKey);
  const warnings: string[] = [];
  for (const rule of rules) {
    const busKey = orderingKeys.get(rule.bus);
    if (busKey === undefined) continue;
    for (const target of rule.targets) {
      if (!target.ordering) continue;
      const targetKey = target.ordering.partitionKey;
      if (targetKey === busKey) continue;
      warnings.push(
        `${rule.bus}/${rule.name}: target ${target.name} orders by ${targetKey ?? 'the partitionkey attribute'} but bus ${rule.bus} routes by ${busKey}: its per-key order holds only where the two keys agree; key the target on ${busKey}, or see docs/delivery.md`,
      );
    }
  }
  return warnings;
}
