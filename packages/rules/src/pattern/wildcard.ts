/** A `wildcard` pattern split on its unescaped `*`s: literal pieces that must appear in order. */
export interface WildcardProgram {
  readonly source: string;
  /** The literal pieces; with no `*` there is one piece that must equal the whole value. */
  readonly pieces: readonly string[];
}

export type WildcardParse =
  | { readonly ok: true; readonly program: WildcardProgram }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses a wildcard as event-ruler's WildcardParser does: `*` matches any run of characters,
 * `\*` is a literal star and `\\` a literal backslash; any other escape and `**` are errors.
 */
export function parseWildcard(source: string): WildcardParse {
  const pieces: string[] = [];
  let piece = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i] as string;
    if (char === '*') {
      if (source[i + 1] === '*') {
        return { ok: false, problem: `"${source}" has consecutive wildcard characters at position ${i}` };
      }
      pieces.push(piece);
      piece = '';
    } else if (char === '\\') {
      const next = source[i + 1];
      if (next !== '*' && next !== '\\') {
        return {
          ok: false,
          problem: `"${source}" has an invalid escape at position ${i}: only \\* and \\\\ are allowed`,
        };
      }
      piece += next;
      i++;
    } else {
      piece += char;
    }
  }
  pieces.push(piece);
  return { ok: true, program: { source, pieces } };
}

/** Whether `value` matches the wildcard: first piece anchored at the start, last at the end. */
export function matchesWildcard(program: WildcardProgram, value: string): boolean {
  const { pieces } = program;
  const first = pieces[0] as string;
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] as string;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  // Leftmost placement of each middle piece is optimal for a pattern whose only operator is `*`.
  const end = value.length - last.length;
  let position = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const middle = pieces[i] as string;
    const found = value.indexOf(middle, position);
    if (found === -1 || found + middle.length > end) return false;
    position = found + middle.length;
  }
  return true;
}

/** The literal text before the first `*`: every matching value starts with it. */
export function wildcardLiteralPrefix(program: WildcardProgram): string {
  return program.pieces[0] as string;
}
