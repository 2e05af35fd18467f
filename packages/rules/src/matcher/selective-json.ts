import type { FieldPaths, PathNode } from '../pattern/field-paths.js';
import type { CloudEventLike } from '../pattern/types.js';
import type { PresentPaths } from './present-paths.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The text is not JSON (or not what the reader can vouch for): callers parse it in full instead. */
export class SelectiveReadError extends Error {
  constructor(at: number) {
    super(`not JSON at character ${at}`);
    this.name = 'SelectiveReadError';
  }
}

/**
 * Reads, from an event's JSON text, only the fields some rule names: the rest of the text is
 * stepped over without building a string, number or object for it. The result has the shape of
 * `JSON.parse(text)` cut down to the rules' paths (objects on the way, arrays on the way with every
 * element, objects reached at a field's path as empty objects, which are not leaves), so matching
 * it gives what matching the whole parsed event gives. Objects have no prototype, so a key such as
 * `__proto__` is an own key as JSON.parse makes it. An object that repeats a key some rule names
 * is not read here (SelectiveReadError: the caller parses it, and JSON.parse keeps the last value):
 * so every path marked present has a leaf in the result, which matching relies on.
 *
 * The text must be JSON: what is stepped over is checked for its structure only (brackets, quotes,
 * commas), so some malformed texts read without an error. The router reads events the gateway
 * wrote; anything it cannot read is parsed in full, which reports the error.
 */
export class SelectiveJsonReader {
  private text = '';
  private at = 0;

  /**
   * `present`, when given, is told each path at which a leaf is read, so that the matcher need
   * not walk the result again to learn them: exactly the paths with a leaf in the result.
   */
  constructor(
    private readonly paths: FieldPaths,
    private readonly present?: PresentPaths,
  ) {}

  read(text: string): CloudEventLike {
    this.text = text;
    this.at = 0;
    this.present?.begin();
    this.space();
    if (text.charCodeAt(this.at) !== OPEN_OBJECT) throw new SelectiveReadError(this.at);
    const event = this.object(this.paths.root);
    this.space();
    if (this.at !== text.length) throw new SelectiveReadError(this.at);
    this.text = '';
    return event;
  }

  private value(node: PathNode): unknown {
    const code = this.text.charCodeAt(this.at);
    if (code === OPEN_OBJECT) return this.object(node);
    if (code === OPEN_ARRAY) return this.array(node);
    if (node.id !== -1) this.present?.mark(node.id);
    return code === QUOTE ? this.string() : this.scalar();
  }

  private object(node: PathNode): Record<string, unknown> {
    const text = this.text;
    const result: Record<string, unknown> = Object.create(null);
    const children = node.children;
    this.at++;
    this.space();
    if (text.charCodeAt(this.at) === CLOSE_OBJECT) {
      this.at++;
      return result;
    }
    for (;;) {
      if (text.charCodeAt(this.at) !== QUOTE) throw new SelectiveReadError(this.at);
      const key = this.string();
      this.space();
      if (text.charCodeAt(this.at) !== COLON) throw new SelectiveReadError(this.at);
      this.at++;
      this.space();
      const child = children.size === 0 ? undefined : children.get(key);
      if (child === undefined) this.skip();
      else {
        // Repeated: its first value's leaves were marked present. Rare; JSON.parse reads it.
        if (result[key] !== undefined) throw new SelectiveReadError(this.at);
        result[key] = this.value(child);
      }
      this.space();
      const next = text.charCodeAt(this.at++);
      if (next === CLOSE_OBJECT) return result;
      if (next !== COMMA) throw new SelectiveReadError(this.at - 1);
      this.space();
    }
  }

  private array(node: PathNode): unknown[] {
    const text = this.text;
    const result: unknown[] = [];
    this.at++;
    this.space();
    if (text.charCodeAt(this.at) === CLOSE_ARRAY) {
      this.at++;
      return result;
    }
    for (;;) {
      // Arrays are crushed into their path: each element is read at the array's own path.
      result.push(this.value(node));
      this.space();
      const next = text.charCodeAt(this.at++);
      if (next === CLOSE_ARRAY) return result;
      if (next !== COMMA) throw new SelectiveReadError(this.at - 1);
      this.space();
    }
  }

  /** A string token at `at` (its opening quote), unescaped. */
  private string(): string {
    const text = this.text;
    const start = this.at + 1;
    const end = this.stringEnd(start);
    this.at = end + 1;
    const raw = text.slice(start, end);
    // Escapes are rare in the fields rules look at: JSON.parse decodes them exactly.
    return raw.indexOf('\\') === -1 ? raw : (JSON.parse(text.slice(start - 1, end + 1)) as string);
  }

  /** The index of the quote that closes the string whose first character is at `start`. */
  private stringEnd(start: number): number {
    const text = this.text;
    let quote = text.indexOf('"', start);
    for (;;) {
      if (quote === -1) throw new SelectiveReadError(start - 1);
      // A quote after an odd run of backslashes is escaped.
      let backslashes = 0;
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote;
      quote = text.indexOf('"', quote + 1);
    }
  }

  /** A number, true, false or null. */
  private scalar(): unknown {
    const text = this.text;
    const start = this.at;
    const end = this.scalarEnd(start);
    this.at = end;
    const token = text.slice(start, end);
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token === 'null') return null;
    // Number() takes more than JSON does ("0x1f", "Infinity"...): only JSON numbers pass.
    if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(token)) throw new SelectiveReadError(start);
    return Number(token);
  }

  private scalarEnd(start: number): number {
    const text = this.text;
    let end = start;
    for (;;) {
      const code = text.charCodeAt(end);
      // Letters, digits, '-', '+', '.': what numbers and literals are made of.
      if (
        (code >= 0x30 && code <= 0x39) ||
        (code >= 0x61 && code <= 0x7a) ||
        code === 0x2d ||
        code === 0x2b ||
        code === 0x2e ||
        (code >= 0x41 && code <= 0x5a)
      ) {
        end++;
      } else {
        if (end === start) throw new SelectiveReadError(start);
        return end;
      }
    }
  }

  /** Steps over one value, building nothing. */
  private skip(): void {
    const text = this.text;
    const code = text.charCodeAt(this.at);
    if (code === QUOTE) {
      this.at = this.stringEnd(this.at + 1) + 1;
      return;
    }
    if (code !== OPEN_OBJECT && code !== OPEN_ARRAY) {
      this.at = this.scalarEnd(this.at);
      return;
    }
    // A nested object or array: brackets counted, strings jumped over (they may hold brackets).
    let depth = 0;
    let at = this.at;
    for (;;) {
      const next = text.charCodeAt(at);
      if (next === QUOTE) at = this.stringEnd(at + 1);
      else if (next === OPEN_OBJECT || next === OPEN_ARRAY) depth++;
      else if (next === CLOSE_OBJECT || next === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) {
          this.at = at + 1;
          return;
        }
      } else if (Number.isNaN(next)) throw new SelectiveReadError(at);
      at++;
    }
  }

  private space(): void {
    const text = this.text;
    let at = this.at;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) at++;
      else break;
    }
    this.at = at;
  }
}
