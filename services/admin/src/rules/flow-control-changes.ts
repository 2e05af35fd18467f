import type { RuleChanges, StoredRule } from '@fuze/db';
import type { RuleDocument } from '@fuze/rules';
import { type FlowLimitsView, flowLimitsView } from '../targets/flow-limits-view.js';
import { canonicalJson } from './rule-ref.js';

/** A target whose flow control an apply changes; null: the target has no rule (none, or no more). */
export interface FlowControlChange {
  target: string;
  before: FlowLimitsView | null;
  after: FlowLimitsView | null;
}

/**
 * The targets whose rateLimit, maxConcurrency or circuitBreaker differ once `changes` are applied
 * to `stored`. A target that comes or goes without limits is no change of flow control.
 */
export function flowControlChanges(stored: StoredRule[], changes: RuleChanges): FlowControlChange[] {
  const key = (r: { bus: string; name: string }) => `${r.bus}/${r.name}`;
  const before = new Map(stored.map((r) => [key(r), r.document]));
  const after = new Map(before);
  for (const r of changes.deletes) after.delete(key(r));
  for (const r of changes.upserts) after.set(key(r), r.document);
  const limitsBefore = limitsByTarget(before.values());
  const limitsAfter = limitsByTarget(after.values());
  const none = canonicalJson({ circuitBreaker: null, rateLimit: null, maxConcurrency: null });
  const text = (v: FlowLimitsView | undefined) => (v ? canonicalJson(v) : none);
  const names = [...new Set([...limitsBefore.keys(), ...limitsAfter.keys()])].sort();
  return names
    .filter((name) => text(limitsBefore.get(name)) !== text(limitsAfter.get(name)))
    .map((name) => ({
      target: name,
      before: limitsBefore.get(name) ?? null,
      after: limitsAfter.get(name) ?? null,
    }));
}

/** Every rule of a target declares the same limits (apply refuses otherwise): the first says them. */
function limitsByTarget(documents: Iterable<Record<string, unknown>>): Map<string, FlowLimitsView> {
  const byTarget = new Map<string, FlowLimitsView>();
  for (const document of documents) {
    for (const target of (document as unknown as RuleDocument).targets) {
      if (!byTarget.has(target.name)) byTarget.set(target.name, flowLimitsView(target));
    }
  }
  return byTarget;
}
