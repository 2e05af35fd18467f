/**
 * How far a shard is routed without a gap. Events are routed concurrently and finish in any
 * order; the checkpoint may only claim a position when every event delivered before it is done.
 */
export class RoutedPrefix {
  /** Stream sequences in the order they were handed out, and whether each is done. */
  private readonly order: number[] = [];
  private readonly done = new Set<number>();
  private head = 0;
  through = 0;

  started(seq: number): void {
    this.order.push(seq);
  }

  finished(seq: number): void {
    this.done.add(seq);
    while (this.head < this.order.length && this.done.has(this.order[this.head]!)) {
      const first = this.order[this.head]!;
      this.done.delete(first);
      this.through = Math.max(this.through, first);
      this.head += 1;
    }
    if (this.head > 1_024) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
