import { matchesWildcard, type WildcardProgram } from '../pattern/wildcard.js';
import { AffixIndex } from './affix-index.js';
import type { TargetSink } from './target-sink.js';

interface WildcardEntry<T> {
  readonly program: WildcardProgram;
  readonly target: T;
}

/**
 * Targets keyed by wildcard. Every value a wildcard matches starts with its first literal piece
 * and ends with its last, so wildcards are indexed by both: a lookup finds, one hash probe per
 * distinct length, the prefixes of the value, then within each the suffixes; only wildcards with
 * both ends in place are run. With the prefix alone, `ab*cd` and 10,000 other `ab*...` rules
 * were all run on every value starting with `ab`.
 */
export class WildcardIndex<T> {
  private readonly byFirstPiece = new Map<string, AffixIndex<WildcardEntry<T>>>();
  /** Distinct first-piece lengths, ascending. */
  private readonly lengths: number[] = [];
  /** Scratch space for the candidates of one lookup. */
  private readonly candidates: WildcardEntry<T>[] = [];

  add(program: WildcardProgram, target: T): void {
    const first = program.pieces[0] as string;
    let byLastPiece = this.byFirstPiece.get(first);
    if (byLastPiece === undefined) {
      byLastPiece = new AffixIndex('end');
      this.byFirstPiece.set(first, byLastPiece);
      if (!this.lengths.includes(first.length)) {
        this.lengths.push(first.length);
        this.lengths.sort((a, b) => a - b);
      }
    }
    // With no `*` the one piece is the whole value: indexed as its own last piece too.
    byLastPiece.add(program.pieces[program.pieces.length - 1] as string, { program, target });
  }

  /** Pushes onto `out` the targets of every stored wildcard `value` matches. */
  collect(value: string, out: TargetSink<T>): void {
    const candidates = this.candidates;
    for (const length of this.lengths) {
      if (length > value.length) break;
      this.byFirstPiece.get(value.slice(0, length))?.collect(value, candidates);
    }
    for (const { program, target } of candidates) if (matchesWildcard(program, value)) out.push(target);
    candidates.length = 0;
  }
}
