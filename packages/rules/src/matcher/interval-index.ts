import { inNumericRange, type NumericRange } from '../pattern/value-test.js';
import type { TargetSink } from './target-sink.js';

interface Entry<T> {
  readonly range: NumericRange;
  readonly target: T;
}

/** A centered interval tree node: the ranges that contain `center`, sorted both ways. */
interface TreeNode<T> {
  readonly center: number;
  readonly byLower: readonly Entry<T>[];
  readonly byUpperDescending: readonly Entry<T>[];
  readonly left: TreeNode<T> | undefined;
  readonly right: TreeNode<T> | undefined;
}

function build<T>(entries: readonly Entry<T>[]): TreeNode<T> | undefined {
  if (entries.length === 0) return undefined;
  const endpoints = entries.flatMap(({ range }) => [range.lower, range.upper]).sort((a, b) => a - b);
  const center = endpoints[endpoints.length >> 1] as number;
  const here: Entry<T>[] = [];
  const left: Entry<T>[] = [];
  const right: Entry<T>[] = [];
  for (const entry of entries) {
    if (entry.range.upper < center) left.push(entry);
    else if (entry.range.lower > center) right.push(entry);
    else here.push(entry);
  }
  return {
    center,
    byLower: [...here].sort((a, b) => a.range.lower - b.range.lower),
    byUpperDescending: [...here].sort((a, b) => b.range.upper - a.range.upper),
    left: build(left),
    right: build(right),
  };
}

/**
 * Numeric ranges with a stabbing query in O(log n + matches): `numeric` conditions of many rules
 * on one field cost what the matching ones cost, not what all of them cost.
 */
export class IntervalIndex<T> {
  private readonly entries: Entry<T>[] = [];
  private root: TreeNode<T> | undefined;
  private built = true;
  // Every range lies within [lowest, highest]: a value outside them (most numbers of an event, on
  // a field whose rules name one narrow band, such as coordinates) needs no walk at all.
  private lowest = Number.POSITIVE_INFINITY;
  private highest = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.entries.length;
  }

  add(range: NumericRange, target: T): void {
    this.entries.push({ range, target });
    this.built = false;
    if (range.lower < this.lowest) this.lowest = range.lower;
    if (range.upper > this.highest) this.highest = range.upper;
  }

  /** Pushes onto `out` the targets of every range containing `value`. */
  collect(value: number, out: TargetSink<T>): void {
    if (!this.built) {
      this.root = build(this.entries);
      this.built = true;
    }
    if (value < this.lowest || value > this.highest) return;
    let node = this.root;
    while (node !== undefined) {
      if (value < node.center) {
        for (const entry of node.byLower) {
          if (entry.range.lower > value) break;
          if (inNumericRange(entry.range, value)) out.push(entry.target);
        }
        node = node.left;
      } else if (value > node.center) {
        for (const entry of node.byUpperDescending) {
          if (entry.range.upper < value) break;
          if (inNumericRange(entry.range, value)) out.push(entry.target);
        }
        node = node.right;
      } else {
        // Ranges left and right of the center cannot contain it; open bounds here need the check.
        for (const entry of node.byLower) if (inNumericRange(entry.range, value)) out.push(entry.target);
        return;
      }
    }
  }
}
