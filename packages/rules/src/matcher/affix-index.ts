import type { TargetSink } from './target-sink.js';

/**
 * Targets keyed by a prefix (or suffix) of string values. A lookup costs one hash probe per
 * distinct affix length, however many affixes are stored, and returns only true matches.
 */
export class AffixIndex<T> {
  private readonly byAffix = new Map<string, T[]>();
  /** Distinct affix lengths, ascending. */
  private readonly lengths: number[] = [];

  constructor(private readonly side: 'start' | 'end') {}

  get size(): number {
    return this.byAffix.size;
  }

  add(affix: string, target: T): void {
    const targets = this.byAffix.get(affix);
    if (targets !== undefined) {
      targets.push(target);
      return;
    }
    this.byAffix.set(affix, [target]);
    if (!this.lengths.includes(affix.length)) {
      this.lengths.push(affix.length);
      this.lengths.sort((a, b) => a - b);
    }
  }

  /** Pushes onto `out` the targets of every stored affix of `value`. */
  collect(value: string, out: TargetSink<T>): void {
    for (const length of this.lengths) {
      if (length > value.length) return;
      const affix = this.side === 'start' ? value.slice(0, length) : value.slice(value.length - length);
      const targets = this.byAffix.get(affix);
      if (targets !== undefined) for (const target of targets) out.push(target);
    }
  }
}
