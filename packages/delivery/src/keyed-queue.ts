/**
 * Runs items one at a time per key, in push order, and different keys concurrently: the per-key
 * ordering of a partition. `run` resolves true when the item is settled (acked); false stops its
 * key's chain, and the items behind it are handed to `onAbandoned` unstarted, so nothing of that
 * key can overtake an item that was not settled.
 */
export class KeyedQueue<T> {
  private readonly chains = new Map<string, T[]>();
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: (item: T) => Promise<boolean>,
    private readonly onAbandoned: (items: T[]) => void = () => {},
  ) {}

  /** Keys with work (running or waiting). */
  get activeKeys(): number {
    return this.chains.size;
  }

  push(key: string, item: T): void {
    const chain = this.chains.get(key);
    if (chain) {
      chain.push(item);
      return;
    }
    const fresh = [item];
    this.chains.set(key, fresh);
    void this.drive(key, fresh);
  }

  /** Removes every item that has not started and returns them; running items carry on. */
  clear(): T[] {
    const dropped: T[] = [];
    for (const chain of this.chains.values()) dropped.push(...chain.splice(1));
    return dropped;
  }

  /** Resolves once no item is running. */
  idle(): Promise<void> {
    if (this.chains.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drive(key: string, chain: T[]): Promise<void> {
    while (chain.length > 0) {
      const settled = await this.run(chain[0]!).catch(() => false);
      chain.shift();
      if (!settled) {
        this.onAbandoned(chain.splice(0));
        break;
      }
    }
    this.chains.delete(key);
    if (this.chains.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
