import type { Condition } from './condition.js';
import type { FlatValue } from './event-fields.js';

function describeAlternative(element: unknown): string {
  if (element !== null && typeof element === 'object' && !Array.isArray(element)) {
    const [entry] = Object.entries(element);
    if (entry !== undefined) return `${entry[0]} ${JSON.stringify(entry[1])}`;
  }
  return JSON.stringify(element);
}

/** A condition as the user wrote it: `numeric [">=",100]`, `"a" or prefix "b"`. */
export function describeCondition(condition: Condition): string {
  return condition.source.map(describeAlternative).join(' or ');
}

/** The event values a condition was tried on: `42` or `["a","b"]`. */
export function describeValues(values: readonly FlatValue[]): string {
  const [only] = values;
  if (values.length === 1 && only !== undefined) return JSON.stringify(only.value);
  return JSON.stringify(values.map((leaf) => leaf.value));
}
