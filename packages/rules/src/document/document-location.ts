/** A location inside a document or spec: object keys and array indexes, outermost first. */
export type FieldPath = readonly (string | number)[];

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Renders a path the way users read it in messages: `spec.targets[0].retry.maxDelay`.
 * Keys that are not plain identifiers are quoted, so `paths["fuze.x"]` stays unambiguous.
 */
export function formatFieldPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (plainKey.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
