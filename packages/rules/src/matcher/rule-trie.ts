import type { SubRule } from '../pattern/condition.js';
import { FieldPaths } from '../pattern/field-paths.js';
import { FieldIndex } from './field-index.js';

/**
 * A state of the shared matcher: the conditions on the way here hold. Sub-rules that list the
 * same conditions in the same order (see orderConditions) share the states of that common start,
 * so a condition many rules share is evaluated once per event.
 */
export interface TrieNode {
  readonly id: number;
  /** Rules (by position in the rule list) with a sub-rule that ends here. */
  ruleIndices: readonly number[];
  /** The next conditions, grouped by the field they look at. */
  edges: readonly FieldEdges[];
  /** Per-match bookkeeping: the match call that last visited this state. */
  visitedIn: number;
  /** Set (when sealed) on states with more than GUIDED_MIN_EDGES edges; see EdgeGuide. */
  guide: EdgeGuide | undefined;
}

/**
 * Above this many edges, a state's edges are also indexed by path, so that a walk can take only
 * the edges of the paths the event has, instead of looking up every path the edges name: with
 * thousands of rules on distinct fields (`exists` rules, typically), the root has an edge per
 * field, and trying each was most of the matching cost.
 */
export const GUIDED_MIN_EDGES = 8;

/** A state's edges by the path they look at, for walks guided by the event's present paths. */
export interface EdgeGuide {
  readonly byPath: ReadonlyMap<number, FieldEdges>;
  /** The edges with states an absent field leads to (`exists: false`, `anything-but`...). */
  readonly whenAbsent: readonly FieldEdges[];
}

/** The conditions on one field that lead out of a state. */
export interface FieldEdges {
  /** The field's id in the trie's FieldPaths. */
  readonly pathId: number;
  /** Next states, by the event values that satisfy their condition. */
  readonly index: FieldIndex<TrieNode>;
  /** Next states whose condition `exists: false` satisfies. */
  whenAbsent: readonly TrieNode[];
  /**
   * Set (when sealed) where every test of `index` is `exists: true` and every state it leads to
   * ends rules and goes nowhere: then any leaf takes all of them, whatever its value and array
   * element, and a walk that knows the field is present need not read it.
   */
  anyLeaf: readonly TrieNode[] | undefined;
}

// Shared by the many states with no rule ending there or no way on.
const NONE: readonly never[] = Object.freeze([]);

export class RuleTrie {
  readonly root: TrieNode;
  /** Every field any rule looks at: events are read along these. */
  readonly paths = new FieldPaths();
  /** Next state by condition key, per edge: to share states between rules while building. */
  private readonly byCondition = new Map<FieldEdges, Map<string, TrieNode>>();
  /** Each state's edges by path id, while building. */
  private readonly edgesByPath = new Map<TrieNode, Map<number, FieldEdges>>();
  private nodeCount = 0;

  constructor() {
    this.root = this.newNode();
  }

  get size(): number {
    return this.nodeCount;
  }

  private newNode(): TrieNode {
    return { id: this.nodeCount++, ruleIndices: NONE, edges: NONE, visitedIn: -1, guide: undefined };
  }

  add(subRule: SubRule, ruleIndex: number): void {
    let node = this.root;
    for (const condition of subRule.conditions) {
      const pathId = this.paths.idOf(condition.segments);
      let byPath = this.edgesByPath.get(node);
      if (byPath === undefined) {
        byPath = new Map();
        this.edgesByPath.set(node, byPath);
        node.edges = [];
      }
      let edges = byPath.get(pathId);
      if (edges === undefined) {
        edges = { pathId, index: new FieldIndex(), whenAbsent: NONE, anyLeaf: undefined };
        byPath.set(pathId, edges);
        (node.edges as FieldEdges[]).push(edges);
      }
      let children = this.byCondition.get(edges);
      if (children === undefined) {
        children = new Map();
        this.byCondition.set(edges, children);
      }
      let next = children.get(condition.key);
      if (next === undefined) {
        next = this.newNode();
        children.set(condition.key, next);
        for (const test of condition.tests) edges.index.add(test, next);
        if (condition.absentOk) edges.whenAbsent = edges.whenAbsent.concat([next]);
      }
      node = next;
    }
    // concat allocates exactly; a spread array keeps room for 17 (see FieldIndex.add).
    if (!node.ruleIndices.includes(ruleIndex)) node.ruleIndices = node.ruleIndices.concat([ruleIndex]);
  }

  /** Drops what only building needs; the trie must not be added to afterwards. */
  seal(): void {
    for (const byPath of this.edgesByPath.values()) {
      for (const edges of byPath.values()) {
        const targets = edges.index.existsOnlyTargets();
        if (targets?.every((next) => next.edges.length === 0)) edges.anyLeaf = targets;
      }
    }
    for (const [node, byPath] of this.edgesByPath) {
      // Pushed-to arrays keep spare room; a state's edges are final now, and slice is exact.
      node.edges = node.edges.slice();
      if (byPath.size <= GUIDED_MIN_EDGES) continue;
      node.guide = { byPath, whenAbsent: node.edges.filter((edges) => edges.whenAbsent.length > 0) };
    }
    this.edgesByPath.clear();
    this.byCondition.clear();
  }
}
