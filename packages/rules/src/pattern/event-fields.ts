import type { Membership } from './array-membership.js';
import type { FieldPaths, RouteStep } from './field-paths.js';
import type { CloudEventLike, ScalarValue } from './types.js';

/** One leaf of the event and the array elements it sits in. */
export interface FlatValue {
  readonly value: ScalarValue;
  readonly membership: Membership | undefined;
}

/**
 * The leaf values of one event by field, flattened like event-ruler does: object keys are the
 * steps of a path, arrays are crushed into their path (each element's leaves are values of it),
 * nested arrays too; objects and empty arrays are not leaves. Fields are read lazily, when a
 * condition asks for them, so a matcher pays only for the fields the reached rules look at.
 * An array element is recorded (for array consistency) only where two looked-at fields can share
 * the array.
 */
export class EventFields {
  /** Per path id: no leaf (`null`) or the leaves, valid where `readIn` holds the current read. */
  private readonly cache: (FlatValue[] | null)[];
  private readonly readIn: Float64Array;
  private read = 0;
  /** Ids for the arrays met, so that two fields read separately agree on an array's identity. */
  private readonly arrayIds = new Map<unknown[], number>();

  constructor(
    private event: CloudEventLike,
    private readonly paths: FieldPaths,
  ) {
    this.cache = new Array(paths.size);
    this.readIn = new Float64Array(paths.size).fill(-1);
  }

  /**
   * Reads another event with the same buffers: a matcher over thousands of paths reuses one
   * EventFields rather than allocating a cache per path for every event.
   */
  reuseFor(event: CloudEventLike): this {
    this.event = event;
    this.read++;
    if (this.arrayIds.size > 0) this.arrayIds.clear();
    return this;
  }

  /** The leaves of the field with this id, or `undefined` when it has none. */
  at(pathId: number): readonly FlatValue[] | undefined {
    let leaves: FlatValue[] | null;
    if (this.readIn[pathId] === this.read) leaves = this.cache[pathId] as FlatValue[] | null;
    else {
      const found: FlatValue[] = [];
      this.gather(this.event, this.paths.route(pathId), 0, false, undefined, found);
      leaves = found.length === 0 ? null : found;
      this.cache[pathId] = leaves;
      this.readIn[pathId] = this.read;
    }
    return leaves ?? undefined;
  }

  private gather(
    value: unknown,
    route: readonly RouteStep[],
    step: number,
    tracksArrays: boolean,
    membership: Membership | undefined,
    found: FlatValue[],
  ): void {
    if (Array.isArray(value)) {
      let arrayId = 0;
      if (tracksArrays) {
        arrayId = this.arrayIds.get(value) ?? this.arrayIds.size;
        this.arrayIds.set(value, arrayId);
      }
      for (let index = 0; index < value.length; index++) {
        const inElement = tracksArrays ? { arrayId, index, parent: membership } : membership;
        this.gather(value[index], route, step, tracksArrays, inElement, found);
      }
      return;
    }
    if (step === route.length) {
      if (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean' ||
        value === null
      ) {
        found.push({ value, membership });
      }
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const { key, inherited, tracksArrays: next } = route[step] as RouteStep;
    const child = (value as Record<string, unknown>)[key];
    // A pattern key such as "constructor" must not read what Object.prototype provides.
    if (child === undefined || (inherited && !Object.hasOwn(value, key))) return;
    this.gather(child, route, step + 1, next, membership, found);
  }
}
