import { type Condition, orderConditions, type SubRule } from './condition.js';
import { InvalidPatternError } from './errors.js';
import { compileLeaf } from './leaf.js';
import { describeType, fail, isPlainObject } from './operators/operator.js';
import { reservedInOr } from './operators/registry.js';
import { formatJsonPath, type PathSegment } from './pattern-location.js';
import { DEFAULT_MAX_OR_COMBINATIONS, DEFAULT_MAX_PATTERN_LENGTH, type PatternLimits } from './types.js';

/** A validated pattern, expanded into the sub-rules its `$or`s stand for. */
export interface ParsedPattern {
  /** At least one; a sub-rule with no conditions (the pattern `{}`) matches every event. */
  readonly subRules: readonly SubRule[];
}

/** An object of the pattern with nested objects merged in: its leaves AND its `$or`s. */
interface PatternNode {
  readonly conditions: Condition[];
  /** Each `$or`: its branches. */
  readonly ors: PatternNode[][];
}

const OR = '$or';

function walkObject(
  object: Record<string, unknown>,
  keys: readonly string[],
  at: readonly PathSegment[],
  inOr: boolean,
  node: PatternNode,
): void {
  const entries = Object.entries(object);
  if (entries.length === 0 && at.length > 0) fail(at, 'empty objects are not allowed');
  for (const [key, value] of entries) {
    const valueAt = [...at, key];
    if (key === OR) {
      node.ors.push(walkOr(value, keys, valueAt));
      continue;
    }
    if (inOr && reservedInOr.has(key)) {
      fail(valueAt, `"${key}" is a reserved word and cannot be used as a field name inside $or`);
    }
    const fieldKeys = [...keys, key];
    if (Array.isArray(value)) {
      node.conditions.push(compileLeaf(value, fieldKeys, valueAt));
    } else if (isPlainObject(value)) {
      walkObject(value, fieldKeys, valueAt, inOr, node);
    } else {
      const hint =
        value !== null && typeof value === 'object'
          ? ''
          : ` (leaf values go in an array: [${JSON.stringify(value)}])`;
      fail(valueAt, `"${key}" must be an object or an array, got ${describeType(value)}${hint}`);
    }
  }
}

function walkOr(value: unknown, keys: readonly string[], at: readonly PathSegment[]): PatternNode[] {
  if (!Array.isArray(value))
    fail(at, `$or must be an array of at least 2 objects, got ${describeType(value)}`);
  if (value.length < 2) fail(at, `$or must contain at least 2 objects, got ${value.length}`);
  return value.map((branch: unknown, i) => {
    const branchAt = [...at, i];
    if (!isPlainObject(branch)) fail(branchAt, `$or may only contain objects, got ${describeType(branch)}`);
    if (Object.keys(branch).length === 0) fail(branchAt, 'empty objects are not allowed');
    const node: PatternNode = { conditions: [], ors: [] };
    walkObject(branch, keys, branchAt, true, node);
    return node;
  });
}

/** How many sub-rules a node expands to, computed without expanding. */
function countCombinations(node: PatternNode): number {
  let count = 1;
  for (const branches of node.ors)
    count *= branches.reduce((sum, branch) => sum + countCombinations(branch), 0);
  return count;
}

/** ANDs two condition lists; a field constrained twice (through `$or`) is an error. */
function conjoin(left: readonly Condition[], right: readonly Condition[]): Condition[] {
  const byPath = new Map(left.map((condition) => [condition.pathKey, condition]));
  for (const condition of right) {
    const earlier = byPath.get(condition.pathKey);
    if (earlier !== undefined) {
      throw new InvalidPatternError(
        condition.at,
        `field "${condition.path}" is already matched at ${formatJsonPath(earlier.at)}: ` +
          'a field may appear only once in each $or combination',
      );
    }
    byPath.set(condition.pathKey, condition);
  }
  return [...left, ...right];
}

function expand(node: PatternNode): Condition[][] {
  let combinations: Condition[][] = [conjoin([], node.conditions)];
  for (const branches of node.ors) {
    const alternatives = branches.flatMap(expand);
    combinations = combinations.flatMap((combination) =>
      alternatives.map((alternative) => conjoin(combination, alternative)),
    );
  }
  return combinations;
}

function patternLength(pattern: Record<string, unknown>): number {
  try {
    return JSON.stringify(pattern).length;
  } catch (err) {
    throw new InvalidPatternError(
      [],
      `the pattern is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * Validates an event pattern the way EventBridge does and expands its `$or`s. Throws
 * InvalidPatternError naming the JSON path of the first problem.
 */
export function parsePattern(pattern: unknown, limits: PatternLimits = {}): ParsedPattern {
  const maxLength = limits.maxPatternLength ?? DEFAULT_MAX_PATTERN_LENGTH;
  const maxCombinations = limits.maxOrCombinations ?? DEFAULT_MAX_OR_COMBINATIONS;
  if (!isPlainObject(pattern))
    fail([], `an event pattern must be a JSON object, got ${describeType(pattern)}`);
  const length = patternLength(pattern);
  if (length > maxLength) {
    fail([], `the pattern is ${length} characters long as JSON; the limit is ${maxLength}`);
  }
  const root: PatternNode = { conditions: [], ors: [] };
  walkObject(pattern, [], [], false, root);
  const combinations = countCombinations(root);
  if (combinations > maxCombinations) {
    fail([], `the pattern expands to ${combinations} $or combinations; the limit is ${maxCombinations}`);
  }
  return { subRules: expand(root).map((conditions) => ({ conditions: orderConditions(conditions) })) };
}
