import { type CaseInsensitiveText, matchesIgnoringCase } from './case-folding.js';
import { type IpRange, ipKeyOf, ipRangeContains, parseIpAddress } from './ip-address.js';
import { isComparableNumber } from './numbers.js';
import type { ScalarValue } from './types.js';
import { matchesWildcard, type WildcardProgram } from './wildcard.js';

/** A numeric interval; the bounds are inclusive unless marked open. */
export interface NumericRange {
  readonly lower: number;
  readonly lowerOpen: boolean;
  readonly upper: number;
  readonly upperOpen: boolean;
}

/** What one element of a pattern leaf array tests about one event value. */
export type ValueTestKind =
  /** A literal: strings by equality (or by address when the literal is an IP), numbers by value. */
  | { readonly kind: 'exact'; readonly value: ScalarValue; readonly ipKey: string | undefined }
  | {
      readonly kind: 'prefix' | 'suffix';
      readonly value: string;
      /** Set for `{"prefix": {"equals-ignore-case": ...}}` and the suffix form. */
      readonly ignoreCase: CaseInsensitiveText | undefined;
    }
  | { readonly kind: 'equals-ignore-case'; readonly value: CaseInsensitiveText }
  | { readonly kind: 'wildcard'; readonly program: WildcardProgram }
  | { readonly kind: 'numeric'; readonly range: NumericRange }
  | { readonly kind: 'cidr'; readonly range: IpRange }
  /** `anything-but` a list of strings or of numbers (never mixed). */
  | { readonly kind: 'anything-but'; readonly values: ReadonlySet<string | number> }
  | { readonly kind: 'anything-but-prefix' | 'anything-but-suffix'; readonly values: readonly string[] }
  | { readonly kind: 'anything-but-ignore-case'; readonly values: readonly CaseInsensitiveText[] }
  | { readonly kind: 'anything-but-wildcard'; readonly programs: readonly WildcardProgram[] }
  /** `exists: true`: any leaf value, `null` included. */
  | { readonly kind: 'exists' };

export type ValueTest = ValueTestKind & {
  /** Canonical text of the test: equal keys mean equal tests (used to share work between rules). */
  readonly key: string;
  /** The pattern element it was compiled from, for explanations. */
  readonly source: unknown;
};

/** Whether one event leaf value passes the test (the reference semantics the matcher must agree with). */
export function testValue(test: ValueTest, value: ScalarValue): boolean {
  switch (test.kind) {
    case 'exact':
      if (value === test.value) return true;
      return test.ipKey !== undefined && typeof value === 'string' && ipKeyOf(value) === test.ipKey;
    case 'prefix':
      if (typeof value !== 'string') return false;
      return test.ignoreCase
        ? matchesIgnoringCase(test.ignoreCase, value, 'prefix')
        : value.startsWith(test.value);
    case 'suffix':
      if (typeof value !== 'string') return false;
      return test.ignoreCase
        ? matchesIgnoringCase(test.ignoreCase, value, 'suffix')
        : value.endsWith(test.value);
    case 'equals-ignore-case':
      return typeof value === 'string' && matchesIgnoringCase(test.value, value, 'equals');
    case 'wildcard':
      return typeof value === 'string' && matchesWildcard(test.program, value);
    case 'numeric':
      return typeof value === 'number' && isComparableNumber(value) && inNumericRange(test.range, value);
    case 'cidr': {
      if (typeof value !== 'string') return false;
      const address = parseIpAddress(value);
      return address !== undefined && ipRangeContains(test.range, address);
    }
    case 'anything-but':
      // A value of another type (a string against numbers, null, a boolean) is never excluded.
      return !(typeof value === 'string' || typeof value === 'number') || !test.values.has(value);
    case 'anything-but-prefix':
      return typeof value !== 'string' || !test.values.some((prefix) => value.startsWith(prefix));
    case 'anything-but-suffix':
      return typeof value !== 'string' || !test.values.some((suffix) => value.endsWith(suffix));
    case 'anything-but-ignore-case':
      return (
        typeof value !== 'string' || !test.values.some((text) => matchesIgnoringCase(text, value, 'equals'))
      );
    case 'anything-but-wildcard':
      return typeof value !== 'string' || !test.programs.some((program) => matchesWildcard(program, value));
    case 'exists':
      return true;
  }
}

export function inNumericRange(range: NumericRange, value: number): boolean {
  const aboveLower = range.lowerOpen ? value > range.lower : value >= range.lower;
  const belowUpper = range.upperOpen ? value < range.upper : value <= range.upper;
  return aboveLower && belowUpper;
}
