import { type Assignment, EMPTY_ASSIGNMENT, extendAssignment } from './array-membership.js';
import type { Condition, SubRule } from './condition.js';
import type { EventFields, FlatValue } from './event-fields.js';
import type { FieldPaths } from './field-paths.js';
import { testValue } from './value-test.js';

/** A sub-rule with the id, in the FieldPaths events are read with, of each condition's path. */
export interface BoundSubRule {
  readonly subRule: SubRule;
  readonly pathIds: readonly number[];
}

export function bindSubRule(subRule: SubRule, paths: FieldPaths): BoundSubRule {
  return { subRule, pathIds: subRule.conditions.map((condition) => paths.idOf(condition.segments)) };
}

export function passesCondition(condition: Condition, value: FlatValue['value']): boolean {
  for (const test of condition.tests) if (testValue(test, value)) return true;
  return false;
}

/**
 * Whether some value at the path satisfies the condition (or none exists and `exists: false`
 * allows it), ignoring the other conditions.
 */
export function holdsIndependently(condition: Condition, values: readonly FlatValue[] | undefined): boolean {
  if (values === undefined) return condition.absentOk;
  for (const { value } of values) if (passesCondition(condition, value)) return true;
  return false;
}

/**
 * How many leading conditions of the sub-rule one array-consistent choice of values satisfies
 * (all of them means a match). Conditions are tried in order, backtracking over the values of
 * each; `exists: false` holds when no value is consistent with the choice so far.
 */
export function satisfiedDepth(bound: BoundSubRule, fields: EventFields): number {
  const { conditions } = bound.subRule;
  const { pathIds } = bound;
  let deepest = 0;
  const search = (index: number, assignment: Assignment): boolean => {
    deepest = Math.max(deepest, index);
    if (index === conditions.length) return true;
    const condition = conditions[index] as Condition;
    let anyConsistent = false;
    // Values outside recorded arrays leave the choice unchanged: the rest of the search is the
    // same for all of them, so it is tried once (no backtracking over, say, a list of tags).
    let triedUnchanged = false;
    for (const { value, membership } of fields.at(pathIds[index] as number) ?? []) {
      const extended = membership === undefined ? assignment : extendAssignment(assignment, membership);
      if (extended === undefined) continue;
      anyConsistent = true;
      if (extended === assignment && triedUnchanged) continue;
      if (!passesCondition(condition, value)) continue;
      if (search(index + 1, extended)) return true;
      if (extended === assignment) triedUnchanged = true;
    }
    return condition.absentOk && !anyConsistent && search(index + 1, assignment);
  };
  search(0, EMPTY_ASSIGNMENT);
  return deepest;
}

export function matchesSubRule(bound: BoundSubRule, fields: EventFields): boolean {
  return satisfiedDepth(bound, fields) === bound.subRule.conditions.length;
}
