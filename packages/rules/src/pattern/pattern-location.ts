/** One step into a pattern document: an object key or an array index. */
export type PathSegment = string | number;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Formats pattern-document steps as a JSON path (`$.data.total[0].numeric`), bracketing keys that
 * are not identifiers (`$['detail-type']`) so the path can be pasted back into a JSONPath tool.
 */
export function formatJsonPath(segments: readonly PathSegment[]): string {
  let text = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (identifier.test(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(segment).replace(/^"|"$/g, "'")}]`;
  }
  return text;
}
