/**
 * Wakes whoever waits for shared state to change (a KV watch saw an update): `wait` resolves at
 * the next `notify`, after `ms`, or when `stopping` aborts, whichever comes first.
 */
export class ChangeSignal {
  private wake: () => void = () => {};
  private changed = this.next();

  notify(): void {
    this.wake();
    this.changed = this.next();
  }

  async wait(ms: number, stopping: AbortSignal): Promise<void> {
    // An abort before the wait fires no event: it would wait the whole `ms`.
    if (stopping.aborted) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      this.changed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(1, ms));
        onAbort = resolve;
        stopping.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) stopping.removeEventListener('abort', onAbort);
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }
}
