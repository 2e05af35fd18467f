/**
 * The due times (database clock, epoch ms) of the timers coming up in the next few seconds, so
 * the scheduler sleeps exactly until the next one instead of polling. Filled by the range query
 * and by NOTIFY; an entry only wakes the scheduler, which then asks the database what is due, so
 * a stale entry (a timer cancelled, replaced or fired elsewhere) costs one empty claim at most.
 *
 * A binary min-heap of distinct times: add and take-earliest in O(log n).
 */
export class DueTimeHeap {
  private readonly heap: number[] = [];
  private readonly present = new Set<number>();

  constructor(private readonly capacity = 100_000) {}

  get size(): number {
    return this.heap.length;
  }

  /** The earliest due time, if any. */
  peek(): number | undefined {
    return this.heap[0];
  }

  /** Adds a due time; duplicates and additions beyond capacity are ignored (the range query refills). */
  add(dueMs: number): void {
    if (this.present.has(dueMs) || this.heap.length >= this.capacity) return;
    this.present.add(dueMs);
    const heap = this.heap;
    heap.push(dueMs);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= dueMs) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = dueMs;
  }

  /** Removes every due time at or before `dbNowMs`: the claim that saw that clock covered them. */
  dropThrough(dbNowMs: number): void {
    while (this.heap.length > 0 && this.heap[0]! <= dbNowMs) this.pop();
  }

  private pop(): void {
    const heap = this.heap;
    const top = heap[0]!;
    this.present.delete(top);
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
