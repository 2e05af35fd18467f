import type { RuleDocument, TargetSpec } from '@fuze/rules';

export interface RuleRef {
  bus: string;
  name: string;
}

/** What is stored for a rule: the normalised document without where it was read from. */
export function storedDocument(doc: RuleDocument): Record<string, unknown> {
  const { source: _source, ...rest } = doc;
  return rest as unknown as Record<string, unknown>;
}

/**
 * The parts of a target every rule routing to it must agree on: its name is global (one
 * delivery subject, one set of partitions, one retry policy, one set of flow limits, one
 * dispatcher). The input transformer and partition-key path may differ per rule.
 */
export function deliveryDefinition(target: TargetSpec): string {
  return canonicalJson({
    kind: target.kind,
    http: target.kind === 'http' ? target.http : undefined,
    nats: target.kind === 'nats' ? target.nats : undefined,
    retry: target.retry,
    partitions: target.ordering?.partitions ?? 16,
    circuitBreaker: target.circuitBreaker,
    rateLimit: target.rateLimit,
    maxConcurrency: target.maxConcurrency,
  });
}

/** JSON with object keys sorted: Postgres jsonb does not keep key order, so compare this. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
