/** Where index lookups put the targets they find. Arrays qualify. */
export interface TargetSink<T> {
  push(target: T): unknown;
}

/**
 * The walker's stack of found targets: each level reads what its lookups pushed, then pops back
 * by resetting `size`, which (unlike shrinking an array's length) costs nothing.
 */
export class TargetStack<T> implements TargetSink<T> {
  readonly items: T[] = [];
  size = 0;

  push(target: T): void {
    this.items[this.size++] = target;
  }
}
