import type { Condition } from './condition.js';
import { compileExact } from './operators/exact.js';
import { describeType, fail, isPlainObject, singleEntry } from './operators/operator.js';
import { operatorNames, operators } from './operators/registry.js';
import type { PathSegment } from './pattern-location.js';
import type { ValueTest } from './value-test.js';

function unknownOperator(name: string, at: readonly PathSegment[]): never {
  const sameLetters = operatorNames.find((known) => known.toLowerCase() === name.toLowerCase());
  const hint =
    sameLetters === undefined
      ? `known operators: ${operatorNames.join(', ')}`
      : `operators are case-sensitive: did you mean "${sameLetters}"?`;
  return fail(at, `unknown operator "${name}" (${hint})`);
}

/** Compiles a leaf array (`[ "a", {"prefix": "b"}, {"exists": false} ]`) for the field at `segments`. */
export function compileLeaf(
  leaf: readonly unknown[],
  segments: readonly string[],
  at: readonly PathSegment[],
): Condition {
  if (leaf.length === 0) fail(at, 'a leaf array must not be empty');
  const tests: ValueTest[] = [];
  let absentOk = false;
  leaf.forEach((element, i) => {
    const elementAt = [...at, i];
    if (
      element === null ||
      typeof element === 'string' ||
      typeof element === 'number' ||
      typeof element === 'boolean'
    ) {
      tests.push(compileExact(element, elementAt));
      return;
    }
    if (!isPlainObject(element)) {
      fail(
        elementAt,
        `a match value must be a string, number, boolean, null or operator object, got ${describeType(element)}`,
      );
    }
    const [name, argument] = singleEntry(element, elementAt, 'an operator object');
    const compile = operators[name];
    if (compile === undefined) unknownOperator(name, [...elementAt, name]);
    const result = compile(argument, [...elementAt, name], element);
    if (result.kind === 'absent') absentOk = true;
    else tests.push(result);
  });
  const unique = [...new Map(tests.map((test) => [test.key, test])).values()];
  const testKeys = unique.map((test) => test.key).sort();
  const pathKey = JSON.stringify(segments);
  const key = JSON.stringify([segments, absentOk, testKeys]);
  return { segments, path: segments.join('.'), pathKey, at, tests: unique, absentOk, key, source: leaf };
}
