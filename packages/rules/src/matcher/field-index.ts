import type { ScalarValue } from '../pattern/types.js';
import { testValue, type ValueTest } from '../pattern/value-test.js';
import type { TargetSink } from './target-sink.js';
import { type Checked, ValueIndex } from './value-index.js';

/**
 * Below this many tests a field's tests are simply tried in turn: for the few tests most fields
 * of most states have, a short array beats hash maps and trees, and takes far less memory.
 */
const LINEAR_LIMIT = 6;

const NONE: readonly never[] = Object.freeze([]);

/** The value tests on one field that lead out of one matcher state, and where each leads. */
export class FieldIndex<T> {
  // Grown by concat, which allocates exactly: a pushed-to (or spread) array gets room for 17
  // entries, and most fields of most states keep one test for good (thousands at 10,000 rules).
  private linear: readonly Checked<T>[] | undefined = NONE;
  private indexed: ValueIndex<T> | undefined;

  add(test: ValueTest, target: T): void {
    if (this.linear !== undefined && this.linear.length < LINEAR_LIMIT) {
      this.linear = this.linear.concat([{ target, test }]);
      return;
    }
    if (this.indexed === undefined) {
      this.indexed = new ValueIndex();
      for (const entry of this.linear ?? []) this.indexed.add(entry.test, entry.target);
      this.linear = undefined;
    }
    this.indexed.add(test, target);
  }

  /** The targets, when every test here is `exists: true` (which any leaf passes); else undefined. */
  existsOnlyTargets(): readonly T[] | undefined {
    const linear = this.linear;
    if (linear === undefined || linear.length === 0) return undefined;
    return linear.every((entry) => entry.test.kind === 'exists')
      ? linear.map((entry) => entry.target)
      : undefined;
  }

  /** Pushes onto `out` every target with a test `value` passes (a target may appear twice). */
  collect(value: ScalarValue, out: TargetSink<T>): void {
    const linear = this.linear;
    if (linear !== undefined) {
      for (let i = 0; i < linear.length; i++) {
        const entry = linear[i] as Checked<T>;
        if (testValue(entry.test, value)) out.push(entry.target);
      }
      return;
    }
    (this.indexed as ValueIndex<T>).collect(value, out);
  }
}
