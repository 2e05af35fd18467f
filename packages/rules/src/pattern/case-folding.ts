/**
 * Case-insensitive matching as event-ruler does it (EqualsIgnoreCaseParser): each UTF-16 unit of
 * the pattern matches its `toLowerCase()` or its `toUpperCase()` form (Locale.ROOT, which is what
 * JavaScript's locale-free methods do), and nothing else. So `ß` matches `ß` or `SS`, `İ` matches
 * `İ` or `i̇` but not `i`, and `k` does not match the Kelvin sign. The relation is not symmetric,
 * so it cannot be hashed directly: `foldCase` gives a key that every match shares (checked over
 * the whole BMP), used to find candidates, which are then checked exactly.
 */

// Every UTF-16 unit below 0x80.
const ascii = /^[^\u0080-\uffff]*$/;

/** A case-insensitive pattern string, ready to match. */
export interface CaseInsensitiveText {
  /** As written in the pattern. */
  readonly text: string;
  /** `foldCase(text)`: the hash key. */
  readonly folded: string;
  /** Per UTF-16 unit of `text`: its lower- and upper-case forms. */
  readonly variants: readonly (readonly [string, string])[];
  readonly ascii: boolean;
}

export type CaseMatchMode = 'equals' | 'prefix' | 'suffix';

/** A key shared by a string and every string that matches it ignoring case: lower(upper(lower(c))) per code point. */
export function foldCase(text: string): string {
  if (text === lastText) return lastFolded;
  lastFolded = fold(text);
  lastText = text;
  return lastFolded;
}

// The last text folded: one event value is often compared with several case-insensitive patterns.
let lastText: string | undefined;
let lastFolded = '';

function fold(text: string): string {
  if (ascii.test(text)) return text.toLowerCase();
  let folded = '';
  for (const char of text) folded += char.toLowerCase().toUpperCase().toLowerCase();
  return folded;
}

export function caseInsensitive(text: string): CaseInsensitiveText {
  const variants: (readonly [string, string])[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text[i] as string;
    variants.push([unit.toLowerCase(), unit.toUpperCase()]);
  }
  return { text, folded: foldCase(text), variants, ascii: ascii.test(text) };
}

/** Positions reachable in `value` after matching every variant, walking forward from 0. */
function forwardEnds(pattern: CaseInsensitiveText, value: string): number[] {
  let positions = [0];
  for (const [lower, upper] of pattern.variants) {
    const next: number[] = [];
    for (const at of positions) {
      if (value.startsWith(lower, at) && !next.includes(at + lower.length)) next.push(at + lower.length);
      if (upper !== lower && value.startsWith(upper, at) && !next.includes(at + upper.length))
        next.push(at + upper.length);
    }
    if (next.length === 0) return next;
    positions = next;
  }
  return positions;
}

/** Whether `value` starts with, ends with or equals the pattern, ignoring case. */
export function matchesIgnoringCase(
  pattern: CaseInsensitiveText,
  value: string,
  mode: CaseMatchMode,
): boolean {
  if (pattern.ascii && ascii.test(value)) {
    const lower = value.toLowerCase();
    if (mode === 'equals') return lower === pattern.folded;
    return mode === 'prefix' ? lower.startsWith(pattern.folded) : lower.endsWith(pattern.folded);
  }
  if (mode === 'suffix') {
    let starts = [value.length];
    for (let i = pattern.variants.length - 1; i >= 0; i--) {
      const [lower, upper] = pattern.variants[i] as readonly [string, string];
      const next: number[] = [];
      for (const end of starts) {
        for (const form of lower === upper ? [lower] : [lower, upper]) {
          const start = end - form.length;
          if (start >= 0 && value.startsWith(form, start) && !next.includes(start)) next.push(start);
        }
      }
      if (next.length === 0) return false;
      starts = next;
    }
    return true;
  }
  const ends = forwardEnds(pattern, value);
  return mode === 'prefix' ? ends.length > 0 : ends.includes(value.length);
}
