/** A step of the paths' prefix tree: the keys rules name below here. */
export interface PathNode {
  /** NO_CHILDREN until a longer path goes through: most nodes are leaves. */
  children: ReadonlyMap<string, PathNode>;
  /** The id of the path ending here, or -1 when only longer paths go through it. */
  id: number;
}

// Shared by every leaf: an empty Map costs about 180 bytes, and 10,000 `exists` rules on
// distinct fields make 10,000 leaves.
const NO_CHILDREN: ReadonlyMap<string, PathNode> = new Map();

/** One step from an object to the value under one of its keys, on the way to a field. */
export interface RouteStep {
  readonly key: string;
  /** Whether plain objects inherit a property of that name (`constructor`, `__proto__`...). */
  readonly inherited: boolean;
  /**
   * Whether two or more looked-at paths go through the value this step reaches. Only then can an
   * array found there hold two looked-at fields in different elements, so only then are its
   * elements recorded (array consistency).
   */
  readonly tracksArrays: boolean;
}

/** How many paths end at or below `node`. */
function countPaths(node: PathNode): number {
  let count = node.id === -1 ? 0 : 1;
  for (const child of node.children.values()) count += countPaths(child);
  return count;
}

function collectRoutes(node: PathNode, steps: RouteStep[], routes: (readonly RouteStep[])[]): void {
  if (node.id !== -1) routes[node.id] = [...steps];
  for (const [key, child] of node.children) {
    steps.push({ key, inherited: key in Object.prototype, tracksArrays: countPaths(child) > 1 });
    collectRoutes(child, steps, routes);
    steps.pop();
  }
}

/**
 * The field paths a compiled pattern (or a whole bus of rules) looks at, each with a small integer
 * id, and the route to each: reading a field follows its route, so it never builds path strings
 * and never visits parts of the event no pattern mentions.
 */
export class FieldPaths {
  /** The paths as a prefix tree, for reading an event along every path at once. */
  readonly root: PathNode = { children: NO_CHILDREN, id: -1 };
  private count = 0;
  private routes: (readonly RouteStep[])[] | undefined;

  get size(): number {
    return this.count;
  }

  /** The id of a path, registering it if it is new. */
  idOf(segments: readonly string[]): number {
    let node = this.root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { children: NO_CHILDREN, id: -1 };
        const children = node.children === NO_CHILDREN ? new Map<string, PathNode>() : node.children;
        (children as Map<string, PathNode>).set(segment, child);
        node.children = children;
      }
      node = child;
    }
    if (node.id === -1) {
      node.id = this.count++;
      this.routes = undefined;
    }
    return node.id;
  }

  /** The steps from the event to the field with this id. */
  route(id: number): readonly RouteStep[] {
    if (this.routes === undefined) {
      const routes: (readonly RouteStep[])[] = [];
      collectRoutes(this.root, [], routes);
      this.routes = routes;
    }
    return this.routes[id] as readonly RouteStep[];
  }
}
