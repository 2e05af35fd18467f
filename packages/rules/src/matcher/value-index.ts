import { foldCase } from '../pattern/case-folding.js';
import { ipAddressKey, parseIpAddress } from '../pattern/ip-address.js';
import { isComparableNumber } from '../pattern/numbers.js';
import type { ScalarValue } from '../pattern/types.js';
import { testValue, type ValueTest } from '../pattern/value-test.js';
import { AffixIndex } from './affix-index.js';
import { CidrIndex } from './cidr-index.js';
import { IntervalIndex } from './interval-index.js';
import type { TargetSink } from './target-sink.js';
import { WildcardIndex } from './wildcard-index.js';

/** A target and the test that leads to it, for the tests that are checked one by one. */
export interface Checked<T> {
  readonly target: T;
  readonly test: ValueTest;
}

/**
 * Many value tests on one field, indexed by what they test: given one event value, `collect`
 * finds the targets whose test it passes without trying every test. Exact values, IPs and
 * case-folded strings are hash lookups; prefixes and suffixes one lookup per distinct length;
 * numeric ranges an interval tree; CIDR blocks one lookup per distinct mask; wildcards are
 * narrowed by their first and last literal pieces. Only
 * `anything-but` is scanned: nearly every value passes it, so the scan is paid for by the matches
 * it finds. Each structure is created on first use: most fields only see one kind of test, and
 * a smaller matcher stays in the CPU caches.
 */
export class ValueIndex<T> {
  private exact: Map<ScalarValue, T[]> | undefined;
  private exactIp: Map<string, T[]> | undefined;
  private cidrs: CidrIndex<T> | undefined;
  private prefixes: AffixIndex<T> | undefined;
  private suffixes: AffixIndex<T> | undefined;
  // Keyed by folded text; candidates are then checked exactly (case matching is not symmetric).
  private foldedExact: Map<string, Checked<T>[]> | undefined;
  private foldedAffixes:
    | { readonly prefixes: AffixIndex<Checked<T>>; readonly suffixes: AffixIndex<Checked<T>> }
    | undefined;
  private wildcards: WildcardIndex<T> | undefined;
  private numeric: IntervalIndex<T> | undefined;
  private scanned: Checked<T>[] | undefined;
  private anyValue: T[] | undefined;
  /** Scratch space for candidates that still need their exact check. */
  private readonly candidates: Checked<T>[] = [];

  add(test: ValueTest, target: T): void {
    switch (test.kind) {
      case 'exact':
        if (test.ipKey !== undefined) {
          this.exactIp ??= new Map();
          pushTo(this.exactIp, test.ipKey, target);
        } else {
          this.exact ??= new Map();
          pushTo(this.exact, test.value, target);
        }
        return;
      case 'prefix':
        if (test.ignoreCase) {
          this.folded().prefixes.add(test.ignoreCase.folded, { target, test });
        } else {
          this.prefixes ??= new AffixIndex('start');
          this.prefixes.add(test.value, target);
        }
        return;
      case 'suffix':
        if (test.ignoreCase) {
          this.folded().suffixes.add(test.ignoreCase.folded, { target, test });
        } else {
          this.suffixes ??= new AffixIndex('end');
          this.suffixes.add(test.value, target);
        }
        return;
      case 'equals-ignore-case':
        this.foldedExact ??= new Map();
        pushTo(this.foldedExact, test.value.folded, { target, test });
        return;
      case 'wildcard':
        this.wildcards ??= new WildcardIndex();
        this.wildcards.add(test.program, target);
        return;
      case 'numeric':
        this.numeric ??= new IntervalIndex();
        this.numeric.add(test.range, target);
        return;
      case 'cidr':
        this.cidrs ??= new CidrIndex();
        this.cidrs.add(test.range, target);
        return;
      case 'exists':
        this.anyValue ??= [];
        this.anyValue.push(target);
        return;
      default:
        this.scanned ??= [];
        this.scanned.push({ target, test });
    }
  }

  private folded(): NonNullable<ValueIndex<T>['foldedAffixes']> {
    this.foldedAffixes ??= { prefixes: new AffixIndex('start'), suffixes: new AffixIndex('end') };
    return this.foldedAffixes;
  }

  /** Pushes onto `out` every target with a test `value` passes (a target may appear twice). */
  collect(value: ScalarValue, out: TargetSink<T>): void {
    const exact = this.exact?.get(value);
    if (exact !== undefined) for (const target of exact) out.push(target);
    if (typeof value === 'string') this.collectString(value, out);
    else if (typeof value === 'number' && this.numeric !== undefined && isComparableNumber(value)) {
      this.numeric.collect(value, out);
    }
    if (this.scanned !== undefined)
      for (const { target, test } of this.scanned) if (testValue(test, value)) out.push(target);
    if (this.anyValue !== undefined) for (const target of this.anyValue) out.push(target);
  }

  private collectString(value: string, out: TargetSink<T>): void {
    if (this.exactIp !== undefined || this.cidrs !== undefined) this.collectIp(value, out);
    this.prefixes?.collect(value, out);
    this.suffixes?.collect(value, out);
    const candidates = this.candidates;
    if (this.foldedExact !== undefined || this.foldedAffixes !== undefined) {
      const folded = foldCase(value);
      const byFolded = this.foldedExact?.get(folded);
      if (byFolded !== undefined) for (const candidate of byFolded) candidates.push(candidate);
      this.foldedAffixes?.prefixes.collect(folded, candidates);
      this.foldedAffixes?.suffixes.collect(folded, candidates);
      for (const candidate of candidates) if (testValue(candidate.test, value)) out.push(candidate.target);
      candidates.length = 0;
    }
    this.wildcards?.collect(value, out);
  }

  private collectIp(value: string, out: TargetSink<T>): void {
    const address = parseIpAddress(value);
    if (address === undefined) return;
    const byIp = this.exactIp?.get(ipAddressKey(address));
    if (byIp !== undefined) for (const target of byIp) out.push(target);
    this.cidrs?.collect(address, out);
  }
}

function pushTo<K, T>(map: Map<K, T[]>, key: K, target: T): void {
  const targets = map.get(key);
  if (targets === undefined) map.set(key, [target]);
  else targets.push(target);
}
