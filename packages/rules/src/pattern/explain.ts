import type { Condition } from './condition.js';
import { describeCondition, describeValues } from './describe.js';
import { type BoundSubRule, holdsIndependently, passesCondition, satisfiedDepth } from './evaluate.js';
import type { EventFields, FlatValue } from './event-fields.js';
import type { MatchExplanation } from './types.js';

function reasonFor(condition: Condition, values: readonly FlatValue[] | undefined): string {
  if (values === undefined) return 'field is missing';
  if (condition.tests.length === 0)
    return `exists false not satisfied: the field has the value ${describeValues(values)}`;
  if (!values.some(({ value }) => passesCondition(condition, value))) {
    return `${describeCondition(condition)} not satisfied by ${describeValues(values)}`;
  }
  return (
    `${describeCondition(condition)} is satisfied only by array elements other than the ones ` +
    'that satisfy the previous fields (array consistency)'
  );
}

/**
 * Explains a non-match through the sub-rule (one `$or` combination) closest to matching: the one
 * with the most conditions satisfied on their own. Reports its first condition that fails on its
 * own or, when each holds alone, the first one no array-consistent choice of values satisfies.
 */
export function explainMatch(subRules: readonly BoundSubRule[], fields: EventFields): MatchExplanation {
  let best: { condition: Condition; pathId: number; satisfied: number } | undefined;
  for (const bound of subRules) {
    const depth = satisfiedDepth(bound, fields);
    const { conditions } = bound.subRule;
    if (depth === conditions.length) return { matched: true };
    let failingAt = -1;
    let satisfied = 0;
    conditions.forEach((condition, i) => {
      if (holdsIndependently(condition, fields.at(bound.pathIds[i] as number))) satisfied++;
      else if (failingAt === -1) failingAt = i;
    });
    if (best === undefined || satisfied > best.satisfied) {
      const at = failingAt === -1 ? depth : failingAt;
      best = { condition: conditions[at] as Condition, pathId: bound.pathIds[at] as number, satisfied };
    }
  }
  if (best === undefined) return { matched: true };
  const { condition, pathId } = best;
  return { matched: false, path: condition.path, reason: reasonFor(condition, fields.at(pathId)) };
}
