import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, Scalar } from 'yaml';
import type { FieldPath } from './document-location.js';
import type { ProblemTarget } from './problems.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Maps a field path of one parsed YAML document back to a line and column. A path that stops early
 * (a missing field) resolves to the deepest existing part of it: the key of the enclosing field, or
 * the enclosing list item.
 */
export class YamlLocator {
  constructor(
    private readonly document: Document.Parsed,
    private readonly lineCounter: LineCounter,
    private readonly text: string,
  ) {}

  position(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  /** Where the document's content starts (its first node). */
  documentStart(): Position {
    const contents = this.document.contents;
    return this.position(contents?.range?.[0] ?? this.document.range[0]);
  }

  locate(path: FieldPath, target: ProblemTarget, charOffset?: number): Position {
    let node: unknown = this.document.contents;
    // The node a problem in the current subtree points at when the path cannot be followed further.
    let anchor: Node | null = this.document.contents;
    let keyNode: Node | null = null;
    for (const segment of path) {
      let next: unknown;
      let nextKey: Node | null = null;
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (pair) {
          next = pair.value;
          nextKey = isScalar(pair.key) ? pair.key : null;
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (next === undefined) return this.nodeStart(anchor);
      node = next;
      keyNode = nextKey;
      anchor = nextKey ?? (next as Node | null);
    }
    if (target === 'key' && keyNode) return this.nodeStart(keyNode);
    if (charOffset !== undefined && node instanceof Scalar) {
      const inside = this.offsetInScalar(node, charOffset);
      if (inside !== undefined) return this.position(inside);
    }
    // A key with no value (`retry:`) has no value node: point at the key.
    return this.nodeStart((node as Node | null) ?? keyNode ?? anchor);
  }

  private nodeStart(node: Node | null): Position {
    const start = node?.range?.[0];
    return start === undefined ? this.documentStart() : this.position(start);
  }

  /**
   * The source offset of character `index` of a one-line plain or quoted scalar whose source has no
   * escapes, so the characters map one to one; undefined when that cannot be trusted.
   */
  private offsetInScalar(node: Scalar, index: number): number | undefined {
    const range = node.range;
    if (!range || typeof node.value !== 'string') return undefined;
    const quote = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
    if (node.type !== Scalar.PLAIN && quote === 0) return undefined;
    const inner = this.text.slice(range[0] + quote, range[1] - quote);
    if (inner !== node.value) return undefined;
    return range[0] + quote + index;
  }
}
