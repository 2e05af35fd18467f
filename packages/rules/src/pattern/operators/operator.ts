import { InvalidPatternError } from '../errors.js';
import type { PathSegment } from '../pattern-location.js';
import type { ValueTest } from '../value-test.js';

/** `exists: false`: satisfied by the absence of the field rather than by a value. */
export interface AbsenceTest {
  readonly kind: 'absent';
  readonly key: 'absent';
  readonly source: unknown;
}

export type OperatorResult = ValueTest | AbsenceTest;

/**
 * Compiles the argument of one operator (`{"prefix": "abc"}` -> "abc"). `at` is the JSON path of
 * the operator key, for errors; `source` is the whole operator object, kept for explanations.
 */
export type OperatorCompiler = (
  argument: unknown,
  at: readonly PathSegment[],
  source: unknown,
) => OperatorResult;

export function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function fail(at: readonly PathSegment[], problem: string): never {
  throw new InvalidPatternError(at, problem);
}

export function requireString(argument: unknown, at: readonly PathSegment[], operator: string): string {
  if (typeof argument !== 'string') fail(at, `${operator} must be a string, got ${describeType(argument)}`);
  return argument;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The single `{key: value}` entry of an operator object, or an error naming the problem. */
export function singleEntry(
  object: Record<string, unknown>,
  at: readonly PathSegment[],
  what: string,
): [string, unknown] {
  const entries = Object.entries(object);
  if (entries.length === 0) fail(at, `${what} is an empty object: it needs exactly one operator`);
  if (entries.length > 1) {
    fail(
      at,
      `${what} has ${entries.length} keys (${entries.map(([k]) => k).join(', ')}): only one is allowed`,
    );
  }
  return entries[0] as [string, unknown];
}
