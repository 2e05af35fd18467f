import type { FieldPaths, PathNode } from '../pattern/field-paths.js';

/**
 * Which of the rules' field paths have a leaf in one event, found by one walk of the event guided
 * by the paths' prefix tree: the walk follows the event's own keys (or the tree's, where those
 * are fewer), so it costs what the event holds, however many distinct paths the rules name.
 * "Has a leaf" means exactly what `EventFields.at(id) !== undefined` means: a string, number,
 * boolean or null at the path, arrays crushed into it.
 *
 * One finder per matcher; it reuses its buffers from event to event.
 */
export class PresentPaths {
  /** The present ids of the last event read. */
  readonly ids: number[] = [];
  /** Per path id: the read in which it was last found present. */
  private readonly foundIn: Float64Array;
  private read = -1;

  constructor(private readonly paths: FieldPaths) {
    this.foundIn = new Float64Array(paths.size).fill(-1);
  }

  /** Finds the present paths of `event`; `ids` holds them until the next call. */
  readFrom(event: unknown): void {
    this.begin();
    this.visit(event, this.paths.root);
  }

  /**
   * Starts a new event whose present paths someone else reports with `mark` (the selective
   * reader, which meets every leaf on the rules' paths as it reads the text).
   */
  begin(): void {
    this.read++;
    this.ids.length = 0;
  }

  /** Path `id` has a leaf in the current event (marking it again is harmless). */
  mark(id: number): void {
    if (this.foundIn[id] === this.read) return;
    this.foundIn[id] = this.read;
    this.ids.push(id);
  }

  has(pathId: number): boolean {
    return this.foundIn[pathId] === this.read;
  }

  private visit(value: unknown, node: PathNode): void {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) this.visit(value[index], node);
      return;
    }
    if (typeof value !== 'object' || value === null) {
      const isLeaf =
        value === null ||
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean';
      if (isLeaf && node.id !== -1) this.mark(node.id);
      return;
    }
    const children = node.children;
    if (children.size === 0) return;
    const object = value as Record<string, unknown>;
    const prototype = Object.getPrototypeOf(object);
    // A parsed event is made of plain objects, whose own keys are all there is to read. Anything
    // else may answer through its prototype (getters, `constructor`): read it key by key, as
    // EventFields does.
    if (prototype === Object.prototype || prototype === null) {
      const keys = Object.keys(object);
      if (keys.length < children.size) {
        for (const key of keys) {
          const child = children.get(key);
          if (child !== undefined) this.visit(object[key], child);
        }
        return;
      }
    }
    for (const [key, child] of children) {
      const inner = object[key];
      if (inner === undefined || (key in Object.prototype && !Object.hasOwn(object, key))) continue;
      this.visit(inner, child);
    }
  }
}
