/**
 * A set that remembers only its last `capacity` entries (oldest forgotten first), and when each
 * was added; O(1), no allocation per add.
 */
export class RecentSet<T> {
  private readonly entries = new Map<T, number>();
  private readonly ring: Array<T | undefined>;
  private next = 0;

  constructor(
    capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array<T | undefined>(capacity);
  }

  has(value: T): boolean {
    return this.entries.has(value);
  }

  /** When `value` was added (the first time, while remembered), or undefined. */
  addedAt(value: T): number | undefined {
    return this.entries.get(value);
  }

  add(value: T): void {
    if (this.entries.has(value)) return;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.entries.delete(evicted);
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.ring.length;
    this.entries.set(value, this.now());
  }
}
