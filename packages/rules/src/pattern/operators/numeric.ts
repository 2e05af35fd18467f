import { comparableNumberProblem, NUMERIC_LIMIT } from '../numbers.js';
import type { PathSegment } from '../pattern-location.js';
import type { NumericRange, ValueTest } from '../value-test.js';
import { describeType, fail, type OperatorCompiler } from './operator.js';

const example = 'e.g. [">", 0, "<=", 5], ["=", 3] or ["<", 10]';

function operand(
  list: readonly unknown[],
  index: number,
  at: readonly PathSegment[],
  operator: string,
): number {
  const value = list[index];
  const valueAt = [...at, index];
  if (index >= list.length) fail(at, `"${operator}" needs a number after it (${example})`);
  if (typeof value !== 'number')
    fail(valueAt, `the value of "${operator}" must be a number, got ${describeType(value)}`);
  const problem = comparableNumberProblem(value);
  if (problem !== undefined) fail(valueAt, problem);
  return value;
}

function rangeKey(range: NumericRange): string {
  return `r:${range.lowerOpen ? '(' : '['}${range.lower},${range.upper}${range.upperOpen ? ')' : ']'}`;
}

/**
 * `numeric`: `["=", n]`, a lower bound (`>`/`>=`) optionally followed by an upper bound (`<`/`<=`),
 * or an upper bound alone. As in event-ruler, one-sided bounds extend to the -5e9/5e9 limits and
 * the lower bound must be strictly below the upper one (so `[">", 5e9]` is rejected).
 */
export const compileNumeric: OperatorCompiler = (argument, at, source): ValueTest => {
  if (!Array.isArray(argument))
    fail(at, `numeric must be an array (${example}), got ${describeType(argument)}`);
  const list: readonly unknown[] = argument;
  const first = list[0];
  if (typeof first !== 'string') {
    fail(
      list.length === 0 ? at : [...at, 0],
      `numeric must start with an operator: "=", ">", ">=", "<" or "<=" (${example})`,
    );
  }
  const tooMany = (): never => fail(at, `numeric has too many elements (${example})`);
  let range: NumericRange;
  if (first === '=') {
    const value = operand(list, 1, at, first);
    if (list.length > 2) tooMany();
    range = { lower: value, lowerOpen: false, upper: value, upperOpen: false };
  } else if (first === '<' || first === '<=') {
    const upper = operand(list, 1, at, first);
    if (list.length > 2) tooMany();
    if (upper <= -NUMERIC_LIMIT) fail(at, `the upper bound ${upper} must be greater than -5e9`);
    range = { lower: -NUMERIC_LIMIT, lowerOpen: false, upper, upperOpen: first === '<' };
  } else if (first === '>' || first === '>=') {
    const lower = operand(list, 1, at, first);
    let upper = NUMERIC_LIMIT;
    let upperOpen = false;
    if (list.length > 2) {
      const second = list[2];
      if (second !== '<' && second !== '<=') {
        fail(
          [...at, 2],
          `a range's upper bound must use "<" or "<=", got ${JSON.stringify(second)} (${example})`,
        );
      }
      upper = operand(list, 3, at, second);
      upperOpen = second === '<';
      if (list.length > 4) tooMany();
    }
    if (lower >= upper) {
      fail(
        at,
        `the lower bound ${lower} must be less than the upper bound ${upper} (numbers are limited to -5e9..5e9)`,
      );
    }
    range = { lower, lowerOpen: first === '>', upper, upperOpen };
  } else {
    fail([...at, 0], `unknown numeric operator ${JSON.stringify(first)}: use "=", ">", ">=", "<" or "<="`);
  }
  return { kind: 'numeric', range, key: rangeKey(range), source };
};
