/**
 * The JSON path subset EventBridge input transformers accept: `$.` then dot-separated keys made of
 * letters, digits, `_`, `-` and `/`, each optionally followed by array indexes (`$.items[0].id`).
 * Bracketed keys (`$['a']`), filters and wildcards are rejected, so every path names one value.
 */
export interface JsonPath {
  /** The path as written, e.g. `$.data.orderId`. */
  readonly text: string;
  readonly segments: readonly (string | number)[];
  /** The value at the path, or `undefined` when any step is missing. */
  read(root: unknown): unknown;
}

export type JsonPathParse =
  | { readonly ok: true; readonly path: JsonPath }
  | { readonly ok: false; readonly message: string };

export const MAX_JSON_PATH_LENGTH = 256;

const keyChar = /[A-Za-z0-9_\-/]/;

export function parseJsonPath(text: string): JsonPathParse {
  const fail = (message: string): JsonPathParse => ({ ok: false, message });
  if (text.length > MAX_JSON_PATH_LENGTH) {
    return fail(`JSON path is ${text.length} characters long; the limit is ${MAX_JSON_PATH_LENGTH}`);
  }
  if (!text.startsWith('$.')) {
    return fail(`JSON path "${text}" must start with "$." (e.g. "$.data.orderId")`);
  }
  const segments: (string | number)[] = [];
  let i = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      let end = i + 1;
      while (end < text.length && keyChar.test(text[end] as string)) end++;
      if (end === i + 1) return fail(`JSON path "${text}" has an empty or invalid key at character ${i + 2}`);
      segments.push(text.slice(i + 1, end));
      i = end;
    } else if (c === '[') {
      const close = text.indexOf(']', i);
      const inside = close === -1 ? '' : text.slice(i + 1, close);
      if (!/^(0|[1-9][0-9]*)$/.test(inside)) {
        const hint =
          inside === '*' ? 'wildcards are not supported' : 'only array indexes such as [0] are allowed';
        return fail(`JSON path "${text}" has an invalid index at character ${i + 1}: ${hint}`);
      }
      segments.push(Number(inside));
      i = close + 1;
    } else {
      const hint =
        c === '*' ? 'wildcards are not supported' : 'keys may use letters, digits, "_", "-" and "/"';
      return fail(`JSON path "${text}" has an unexpected "${c}" at character ${i + 1}: ${hint}`);
    }
  }
  return { ok: true, path: new SegmentPath(text, segments) };
}

class SegmentPath implements JsonPath {
  constructor(
    readonly text: string,
    readonly segments: readonly (string | number)[],
  ) {}

  read(root: unknown): unknown {
    let value = root;
    for (const segment of this.segments) {
      if (typeof segment === 'number') {
        if (!Array.isArray(value)) return undefined;
        value = value[segment];
      } else {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
        if (!Object.hasOwn(value, segment)) return undefined;
        value = (value as Record<string, unknown>)[segment];
      }
    }
    return value;
  }
}
