/** The ring's largest size; entries beyond it wait among the stragglers. */
const MAX_SLOTS = 65_536;

/**
 * Publishes awaiting their ack, by token (a sequence number).
 *
 * Why not a Map: thousands of entries per second set and deleted in a Map make V8 promote each
 * publish's objects to the old generation (measured: ~1 KB per publish, a mark-compact every
 * second, half the throughput of a ring in a micro-benchmark). Tokens are consecutive, so a ring
 * indexed by the token's low bits holds them; the rare entry still waiting when its slot comes
 * round again (a publish retried through an outage) moves to a small Map of stragglers.
 */
export class PendingPublishes<T extends { readonly token: number }> {
  private readonly slots: Array<T | undefined>;
  private readonly mask: number;
  private readonly stragglers = new Map<number, T>();
  private count = 0;
  /** One past the newest token added: the ring's oldest slot is this one's. */
  private end = 0;

  /**
   * `expected`: how many are usually in flight at once. The ring gets twice that, a power of two
   * from 64 to 65,536 slots: more in flight than the ring holds still works, the rest waiting in
   * the stragglers, and an unbounded `maxInFlight` must not allocate (or sweep) a huge array.
   */
  constructor(expected: number) {
    let size = 64;
    while (size < expected * 2 && size < MAX_SLOTS) size *= 2;
    this.slots = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  add(entry: T): void {
    const slot = entry.token & this.mask;
    const occupant = this.slots[slot];
    if (occupant !== undefined) this.stragglers.set(occupant.token, occupant);
    this.slots[slot] = entry;
    this.count++;
    if (entry.token >= this.end) this.end = entry.token + 1;
  }

  get(token: number): T | undefined {
    const entry = this.slots[token & this.mask];
    if (entry !== undefined && entry.token === token) return entry;
    return this.stragglers.size === 0 ? undefined : this.stragglers.get(token);
  }

  /** Removes `entry`; false when it was no longer pending. */
  delete(entry: T): boolean {
    const slot = entry.token & this.mask;
    if (this.slots[slot] === entry) {
      this.slots[slot] = undefined;
    } else if (!this.stragglers.delete(entry.token)) {
      return false;
    }
    this.count--;
    return true;
  }

  /**
   * Every pending entry, oldest first (the order they were added, when tokens are added in order):
   * re-sends after an outage then go out in publish order. Entries may be deleted while iterating.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    yield* this.stragglers.values();
    const oldest = this.end & this.mask;
    for (let i = 0; i < this.slots.length; i++) {
      const entry = this.slots[(oldest + i) & this.mask];
      if (entry !== undefined) yield entry;
    }
  }
}
