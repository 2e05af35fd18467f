import { InputTransformError } from './input-errors.js';

/**
 * Where a placeholder sits decides how its value is written:
 * - `value`: a bare JSON value (`{"id": <id>}`): the value as JSON; strings get quotes.
 * - `string`: inside a JSON string (`"order <id>"`): the value's text, escaped for JSON, no quotes.
 * - `text`: in a plain-text template: the value's text as is.
 */
export type PlaceholderContext = 'value' | 'string' | 'text';

export type TemplateSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | {
      readonly kind: 'placeholder';
      readonly name: string;
      readonly context: PlaceholderContext;
      readonly offset: number;
    };

/** Accumulates segments, merging adjacent literal text. */
export class SegmentBuilder {
  readonly segments: TemplateSegment[] = [];
  private pending = '';

  literal(text: string): void {
    this.pending += text;
  }

  placeholder(name: string, context: PlaceholderContext, offset: number): void {
    this.flush();
    this.segments.push({ kind: 'placeholder', name, context, offset });
  }

  finish(): TemplateSegment[] {
    this.flush();
    return this.segments;
  }

  private flush(): void {
    if (this.pending !== '') this.segments.push({ kind: 'literal', text: this.pending });
    this.pending = '';
  }
}

function toJson(value: unknown, name: string): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new InputTransformError(`the value of <${name}> cannot be written as JSON: ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Writes one placeholder. A path missing from the event renders as EventBridge does: an empty string
 * (`""` as a JSON value, nothing inside a string or text).
 */
export function renderPlaceholder(value: unknown, name: string, context: PlaceholderContext): string {
  if (context === 'value') return toJson(value, name) ?? '""';
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : (toJson(value, name) ?? '');
  return context === 'string' ? JSON.stringify(text).slice(1, -1) : text;
}

export function renderSegments(
  segments: readonly TemplateSegment[],
  lookup: (name: string) => unknown,
): string {
  let out = '';
  for (const segment of segments) {
    out +=
      segment.kind === 'literal'
        ? segment.text
        : renderPlaceholder(lookup(segment.name), segment.name, segment.context);
  }
  return out;
}
