import { caseInsensitive } from '../case-folding.js';
import { comparableNumberProblem } from '../numbers.js';
import type { PathSegment } from '../pattern-location.js';
import type { ValueTest } from '../value-test.js';
import { parseWildcard, type WildcardProgram } from '../wildcard.js';
import { describeType, fail, isPlainObject, type OperatorCompiler, singleEntry } from './operator.js';

const listKey = (tag: string, values: Iterable<string | number>): string =>
  `${tag}:${JSON.stringify([...values].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)))}`;

/** The plain form: one string or number, or a non-empty list of only strings or only numbers. */
function compileValues(argument: unknown, at: readonly PathSegment[], source: unknown): ValueTest {
  const list = Array.isArray(argument) ? (argument as readonly unknown[]) : [argument];
  const elementAt = (i: number): readonly PathSegment[] => (Array.isArray(argument) ? [...at, i] : at);
  if (list.length === 0) fail(at, 'anything-but list must not be empty');
  const values = new Set<string | number>();
  let sawString = false;
  let sawNumber = false;
  list.forEach((value, i) => {
    if (typeof value === 'string') {
      sawString = true;
    } else if (typeof value === 'number') {
      const problem = comparableNumberProblem(value);
      if (problem !== undefined) fail(elementAt(i), problem);
      sawNumber = true;
    } else {
      fail(elementAt(i), `anything-but accepts strings or numbers, got ${describeType(value)}`);
    }
    if (sawString && sawNumber)
      fail(elementAt(i), 'anything-but list mixes strings and numbers: use only one type');
    values.add(value === 0 ? 0 : value);
  });
  return { kind: 'anything-but', values, key: listKey('ab', values), source };
}

/** The argument of `{"anything-but": {"prefix" | "suffix" | "equals-ignore-case" | "wildcard": ...}}`. */
function stringList(argument: unknown, at: readonly PathSegment[], operator: string): string[] {
  const list = Array.isArray(argument) ? (argument as readonly unknown[]) : [argument];
  if (list.length === 0) fail(at, `anything-but ${operator} list must not be empty`);
  return list.map((value, i) => {
    const valueAt = Array.isArray(argument) ? [...at, i] : at;
    if (typeof value !== 'string')
      fail(valueAt, `anything-but ${operator} must be a string, got ${describeType(value)}`);
    if (value === '' && (operator === 'prefix' || operator === 'suffix')) {
      fail(valueAt, `anything-but ${operator} must not be empty`);
    }
    return value;
  });
}

function compileNested(
  argument: Record<string, unknown>,
  at: readonly PathSegment[],
  source: unknown,
): ValueTest {
  const [operator, inner] = singleEntry(argument, at, 'anything-but object');
  const innerAt: PathSegment[] = [...at, operator];
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const values = [...new Set(stringList(inner, innerAt, operator))];
      const kind = operator === 'prefix' ? 'anything-but-prefix' : 'anything-but-suffix';
      return { kind, values, key: listKey(kind, values), source };
    }
    case 'equals-ignore-case': {
      const texts = [...new Set(stringList(inner, innerAt, operator))];
      return {
        kind: 'anything-but-ignore-case',
        values: texts.map(caseInsensitive),
        key: listKey('abi', texts),
        source,
      };
    }
    case 'wildcard': {
      const programs: WildcardProgram[] = stringList(inner, innerAt, operator).map((text, i) => {
        const parsed = parseWildcard(text);
        if (!parsed.ok) fail(Array.isArray(inner) ? [...innerAt, i] : innerAt, parsed.problem);
        return parsed.program;
      });
      const key = listKey(
        'abw',
        programs.map((program) => JSON.stringify(program.pieces)),
      );
      return { kind: 'anything-but-wildcard', programs, key, source };
    }
    default:
      return fail(
        innerAt,
        `unsupported anything-but operator "${operator}": use "prefix", "suffix", "equals-ignore-case" or "wildcard"`,
      );
  }
}

/**
 * `anything-but`: matches any leaf value except the ones listed. A value the exclusion cannot
 * apply to (null, a boolean, a number against string exclusions) is therefore matched, as in
 * event-ruler; a missing field is not (there is no value).
 */
export const compileAnythingBut: OperatorCompiler = (argument, at, source): ValueTest => {
  if (isPlainObject(argument)) return compileNested(argument, at, source);
  if (typeof argument === 'string' || typeof argument === 'number' || Array.isArray(argument)) {
    return compileValues(argument, at, source);
  }
  return fail(
    at,
    `anything-but must be a string, a number, a list of either, or an object, got ${describeType(argument)}`,
  );
};
