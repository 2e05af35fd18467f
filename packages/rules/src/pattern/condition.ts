import type { PathSegment } from './pattern-location.js';
import type { ValueTest, ValueTestKind } from './value-test.js';

/** One leaf of a pattern: a field path and the alternatives its value may satisfy. */
export interface Condition {
  /** The object keys leading to the field, e.g. `['data', 'total']`. */
  readonly segments: readonly string[];
  /** The field path for people, keys joined with `.`: `data.total`. */
  readonly path: string;
  /** An unambiguous text form of `segments`, to compare paths. */
  readonly pathKey: string;
  /** Where the leaf array sits in the pattern document, for errors. */
  readonly at: readonly PathSegment[];
  /** Satisfied when one event value at `path` passes one of these. */
  readonly tests: readonly ValueTest[];
  /** Also satisfied when `path` has no value (the leaf lists `{"exists": false}`). */
  readonly absentOk: boolean;
  /** Canonical text of path and tests: equal keys are interchangeable conditions. */
  readonly key: string;
  /** The leaf array as written, for explanations. */
  readonly source: readonly unknown[];
}

/** One `$or` expansion of a pattern: every condition must hold. */
export interface SubRule {
  /** In evaluation order (see `orderConditions`). */
  readonly conditions: readonly Condition[];
}

const kindRank: Record<ValueTestKind['kind'], number> = {
  exact: 0,
  'equals-ignore-case': 1,
  prefix: 1,
  cidr: 2,
  numeric: 2,
  suffix: 3,
  wildcard: 3,
  'anything-but': 4,
  'anything-but-prefix': 4,
  'anything-but-suffix': 4,
  'anything-but-ignore-case': 4,
  'anything-but-wildcard': 4,
  exists: 5,
};

/** How unselective a condition is: its least selective test decides. */
function rank(condition: Condition): number {
  return condition.tests.reduce((worst, test) => Math.max(worst, kindRank[test.kind]), 0);
}

/**
 * The one order both the single-pattern evaluator and the shared matcher follow. Conditions that
 * need a value come first, most selective first and, among equals, shallowest first (top-level
 * attributes such as `type` are selective and never arrays), so that rules sharing a selective
 * condition share work in the matcher. Conditions that `exists: false` can satisfy come last, so
 * that absence is judged against the array elements the other conditions picked (array
 * consistency). The order of the first group does not change the result, only the cost.
 */
export function orderConditions(conditions: readonly Condition[]): Condition[] {
  return [...conditions].sort((a, b) => {
    if (a.absentOk !== b.absentOk) return a.absentOk ? 1 : -1;
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
    const byDepth = a.segments.length - b.segments.length;
    if (byDepth !== 0) return byDepth;
    return a.pathKey < b.pathKey ? -1 : a.pathKey > b.pathKey ? 1 : 0;
  });
}
