/**
 * Where a leaf value sits inside the event's arrays: for each enclosing array (innermost first),
 * the array's id and the element index. Shared by every leaf under the same element.
 */
export interface Membership {
  readonly arrayId: number;
  readonly index: number;
  readonly parent: Membership | undefined;
}

/**
 * The array elements the values chosen so far sit in, as flat `[arrayId, index, ...]` pairs.
 * event-ruler's array consistency: one match may not take two fields from objects in different
 * elements of the same array.
 */
export type Assignment = readonly number[];

export const EMPTY_ASSIGNMENT: Assignment = [];

/** The assignment extended with a value's membership, or `undefined` if they disagree on an array. */
export function extendAssignment(
  assignment: Assignment,
  membership: Membership | undefined,
): Assignment | undefined {
  let extended: number[] | undefined;
  for (let step = membership; step !== undefined; step = step.parent) {
    let known = false;
    for (let i = 0; i < assignment.length; i += 2) {
      if (assignment[i] === step.arrayId) {
        if (assignment[i + 1] !== step.index) return undefined;
        known = true;
        break;
      }
    }
    if (!known) {
      extended ??= [...assignment];
      extended.push(step.arrayId, step.index);
    }
  }
  return extended ?? assignment;
}

/**
 * A text form, to recognise a (state, assignment) pair already explored. Pairs are not sorted: an
 * assignment reached in another order only costs a second visit, never a wrong answer.
 */
export function assignmentKey(assignment: Assignment): string {
  return assignment.join(',');
}
