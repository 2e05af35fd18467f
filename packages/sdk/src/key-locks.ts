/**
 * One piece of work at a time per key. A partition's session already runs a key's events one at
 * a time; a key's timer firings run outside it, so both take the key's lock.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(partition: number, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${partition}\u0000${key}`;
    const previous = this.tails.get(id);
    let release: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(id, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(id) === tail) this.tails.delete(id);
    }
  }
}
