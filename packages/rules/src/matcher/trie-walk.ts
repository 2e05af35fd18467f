import {
  type Assignment,
  assignmentKey,
  EMPTY_ASSIGNMENT,
  extendAssignment,
} from '../pattern/array-membership.js';
import type { EventFields } from '../pattern/event-fields.js';
import type { PresentPaths } from './present-paths.js';
import type { FieldEdges, TrieNode } from './rule-trie.js';
import { TargetStack } from './target-sink.js';

/**
 * Walks the rule trie for one event at a time and reports the rules of every state it reaches.
 * One walker per matcher: it reuses its buffers, so a walk allocates little.
 *
 * A state is entered together with the array elements the values chosen on the way sit in
 * (array consistency), and a value only leads on when it sits in the same elements: this mirrors
 * `satisfiedDepth` in pattern/evaluate.ts. Most states are reached with no element chosen; those
 * are entered once per event (marked with the walk's number), the others once per state and
 * elements.
 */
export class TrieWalker {
  /** Next states found by the index lookups; each level pops back what it pushed. */
  private readonly next = new TargetStack<TrieNode>();
  private readonly explored = new Set<string>();
  private fields: EventFields | undefined;
  private event: unknown;
  private visit = 0;
  /** The walk whose event `present` was last read from. */
  private presentReadIn = -1;

  constructor(
    private readonly root: TrieNode,
    private readonly present: PresentPaths,
    private readonly found: (ruleIndex: number) => void,
  ) {}

  /**
   * `visit` must differ from every earlier call's; `fields` reads `event`. `presentKnown`: the
   * PresentPaths already hold this event's (filled as it was read), so they are not read again.
   */
  walk(event: unknown, fields: EventFields, visit: number, presentKnown = false): void {
    this.fields = fields;
    this.event = event;
    this.visit = visit;
    if (presentKnown) this.presentReadIn = visit;
    this.enter(this.root, EMPTY_ASSIGNMENT);
    if (this.explored.size > 0) this.explored.clear();
    this.fields = undefined;
    this.event = undefined;
  }

  private enter(node: TrieNode, assignment: Assignment): void {
    if (assignment.length === 0) {
      if (node.visitedIn === this.visit) return;
      node.visitedIn = this.visit;
    } else {
      const key = `${node.id}|${assignmentKey(assignment)}`;
      if (this.explored.has(key)) return;
      this.explored.add(key);
    }
    for (const ruleIndex of node.ruleIndices) this.found(ruleIndex);
    const guide = node.guide;
    if (guide !== undefined) {
      const present = this.presentPaths();
      // Guided: only the edges of the fields the event has, then those an absent field takes.
      if (present.ids.length < node.edges.length) {
        for (const pathId of present.ids) {
          const edges = guide.byPath.get(pathId);
          if (edges === undefined) continue;
          // Present, so it has a leaf, which any element may hold while nothing is chosen yet.
          if (edges.anyLeaf !== undefined && assignment.length === 0) {
            for (const child of edges.anyLeaf) this.enter(child, assignment);
          } else this.follow(edges, assignment);
        }
        for (const edges of guide.whenAbsent) {
          if (!present.has(edges.pathId)) for (const child of edges.whenAbsent) this.enter(child, assignment);
        }
        return;
      }
    }
    for (const edges of node.edges) this.follow(edges, assignment);
  }

  private presentPaths(): PresentPaths {
    if (this.presentReadIn !== this.visit) {
      this.present.readFrom(this.event);
      this.presentReadIn = this.visit;
    }
    return this.present;
  }

  /** Takes the states `edges` lead to for this event's values of their field. */
  private follow(edges: FieldEdges, assignment: Assignment): void {
    const next = this.next;
    let anyConsistent = false;
    const values = (this.fields as EventFields).at(edges.pathId);
    if (values !== undefined) {
      for (const { value, membership } of values) {
        const extended = membership === undefined ? assignment : extendAssignment(assignment, membership);
        if (extended === undefined) continue;
        anyConsistent = true;
        const start = next.size;
        edges.index.collect(value, next);
        const end = next.size;
        for (let i = start; i < end; i++) this.enter(next.items[i] as TrieNode, extended);
        next.size = start;
      }
    }
    if (!anyConsistent) for (const child of edges.whenAbsent) this.enter(child, assignment);
  }
}
