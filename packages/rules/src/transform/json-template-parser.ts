import type { PlaceholderToken } from './template-placeholders.js';
import { SegmentBuilder, type TemplateSegment } from './template-segments.js';

export type JsonTemplateParse =
  | { readonly ok: true; readonly segments: TemplateSegment[] }
  | { readonly ok: false; readonly message: string; readonly offset: number };

class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const whitespace = new Set([' ', '\t', '\n', '\r']);
const numberPattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const escapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Parses a template as JSON in which a placeholder may stand for a value or sit inside a string
 * (never as an object key, as in EventBridge). Whitespace between tokens is dropped, so the output
 * is minified like EventBridge's. Hand-written rather than JSON.parse on a substituted sample so that
 * errors carry the exact character offset in the template.
 */
export function parseJsonTemplate(
  text: string,
  placeholders: ReadonlyMap<number, PlaceholderToken>,
): JsonTemplateParse {
  const parser = new JsonTemplateParser(text, placeholders);
  try {
    return { ok: true, segments: parser.parse() };
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return { ok: false, message: err.message, offset: err.offset };
    throw err;
  }
}

class JsonTemplateParser {
  private pos = 0;
  private readonly out = new SegmentBuilder();

  constructor(
    private readonly text: string,
    private readonly placeholders: ReadonlyMap<number, PlaceholderToken>,
  ) {}

  parse(): TemplateSegment[] {
    this.skipWhitespace();
    this.value();
    this.skipWhitespace();
    if (this.pos < this.text.length)
      this.fail(`unexpected ${this.describe()} after the end of the JSON value`);
    return this.out.finish();
  }

  private value(): void {
    const c = this.text[this.pos];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string(false);
    else if (c === '<') this.placeholder('value');
    else if (c === 't') this.keyword('true');
    else if (c === 'f') this.keyword('false');
    else if (c === 'n') this.keyword('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else this.fail(`expected a JSON value but found ${this.describe()}`);
  }

  private object(): void {
    this.emit('{');
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.emit('}');
      return;
    }
    for (;;) {
      this.skipWhitespace();
      const c = this.text[this.pos];
      if (c === '<') this.fail('a placeholder cannot be used as an object key');
      if (c !== '"') this.fail(`expected a quoted object key but found ${this.describe()}`);
      this.string(true);
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.emit(',');
        continue;
      }
      if (this.text[this.pos] === '}') {
        this.emit('}');
        return;
      }
      this.fail(`expected "," or "}" but found ${this.describe()}`);
    }
  }

  private array(): void {
    this.emit('[');
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.emit(']');
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.emit(',');
        continue;
      }
      if (this.text[this.pos] === ']') {
        this.emit(']');
        return;
      }
      this.fail(`expected "," or "]" but found ${this.describe()}`);
    }
  }

  private string(isKey: boolean): void {
    const start = this.pos;
    this.emit('"');
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) this.fail('string is not closed: add the missing "', start);
      if (c === '"') {
        this.emit('"');
        return;
      }
      if (c === '\\') {
        const next = this.text[this.pos + 1];
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
          this.emitRaw(6);
        } else if (next !== undefined && escapes.has(next)) {
          this.emitRaw(2);
        } else {
          this.fail('invalid escape sequence in a JSON string');
        }
      } else if (c === '<') {
        if (isKey) this.fail('a placeholder cannot be used in an object key');
        this.placeholder('string');
      } else if (c < ' ') {
        this.fail(
          'a JSON string cannot contain a raw line break or control character: write it escaped (\\n)',
        );
      } else {
        this.emit(c);
      }
    }
  }

  private placeholder(context: 'value' | 'string'): void {
    const token = this.placeholders.get(this.pos);
    if (!token) this.fail('"<" does not open a placeholder');
    this.out.placeholder(token.name, context, token.offset);
    this.pos = token.end;
  }

  private keyword(word: string): void {
    if (!this.text.startsWith(word, this.pos))
      this.fail(`expected a JSON value but found ${this.describe()}`);
    this.emitRaw(word.length);
  }

  private number(): void {
    numberPattern.lastIndex = this.pos;
    const match = numberPattern.exec(this.text);
    if (!match) this.fail(`invalid number`);
    this.emitRaw(match[0].length);
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) this.fail(`expected "${c}" but found ${this.describe()}`);
    this.emit(c);
  }

  private emit(c: string): void {
    this.out.literal(c);
    this.pos += c.length;
  }

  private emitRaw(length: number): void {
    this.emit(this.text.slice(this.pos, this.pos + length));
  }

  private skipWhitespace(): void {
    while (whitespace.has(this.text[this.pos] as string)) this.pos++;
  }

  private describe(): string {
    const c = this.text[this.pos];
    return c === undefined ? 'the end of the template' : JSON.stringify(c);
  }

  private fail(message: string, offset = this.pos): never {
    throw new TemplateSyntaxError(message, offset);
  }
}
