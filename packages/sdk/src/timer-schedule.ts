/** A key's timer due at `at` (epoch ms). */
export interface DueTimer {
  at: number;
  partition: number;
  key: string;
  name: string;
}

/** The longest single wait: a timer set far ahead is re-checked this often (and setTimeout caps at ~24.8 days). */
const maxWaitMs = 60_000;

/**
 * The timers of the keys this process holds, earliest first (a binary heap), with one Node timer
 * for the earliest. At most one entry per timer waits: a timer moved later keeps its earlier entry
 * (the firing finds it not yet due and schedules it again), so a timer moved on every event (an
 * expiry) does not pile up entries. Deleted timers are skipped when their entry comes up.
 */
export class TimerSchedule {
  private readonly heap: DueTimer[] = [];
  /** Timer id → the time its waiting entry is due. */
  private readonly waiting = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly fire: (due: DueTimer) => void,
    private readonly now: () => number = Date.now,
  ) {}

  add(due: DueTimer): void {
    if (this.stopped) return;
    const id = timerId(due);
    const waiting = this.waiting.get(id);
    if (waiting !== undefined && waiting <= due.at) return;
    this.waiting.set(id, due.at);
    const heap = this.heap;
    heap.push(due);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
    this.arm();
  }

  /** Entries waiting (fired ones excluded), for tests and figures. */
  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.heap.length = 0;
    this.waiting.clear();
  }

  private arm(): void {
    const next = this.heap[0];
    if (!next || this.stopped) return;
    if (this.timer && next.at >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = next.at;
    this.timer = setTimeout(() => this.run(), Math.min(maxWaitMs, Math.max(0, next.at - this.now())));
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const due = this.pop();
      const id = timerId(due);
      if (this.waiting.get(id) !== due.at) continue; // superseded by an earlier entry
      this.waiting.delete(id);
      this.fire(due);
    }
    this.arm();
  }

  private pop(): DueTimer {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left]!.at < heap[smallest]!.at) smallest = left;
        if (right < heap.length && heap[right]!.at < heap[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

/** One timer of one key: what the schedule keeps one waiting entry for. */
export function timerId(due: DueTimer): string {
  return `${due.partition}\u0000${due.key}\u0000${due.name}`;
}
