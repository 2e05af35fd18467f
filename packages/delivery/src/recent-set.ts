/** A set that remembers only its last `capacity` entries (oldest forgotten first); O(1), no allocation per add. */
export class RecentSet<T> {
  private readonly entries = new Set<T>();
  private readonly ring: Array<T | undefined>;
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Array<T | undefined>(capacity);
  }

  has(value: T): boolean {
    return this.entries.has(value);
  }

  add(value: T): void {
    if (this.entries.has(value)) return;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.entries.delete(evicted);
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.ring.length;
    this.entries.add(value);
  }
}
