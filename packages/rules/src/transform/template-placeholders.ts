/**
 * Placeholders of an input template: `<name>` where name is an `input.paths` key or a predefined
 * `fuze.*` variable (Fuze's counterparts of EventBridge's `aws.events.*`). As in EventBridge, `<` and
 * `>` cannot be escaped: every `<` in a template must open a placeholder.
 */
export const predefinedPlaceholders = {
  'fuze.rule-name': 'the name of the rule that matched',
  'fuze.ingestion-time': 'when the bus accepted the event (ISO 8601)',
  'fuze.event': 'the CloudEvent without data / data_base64, as JSON',
  'fuze.event.json': 'the whole CloudEvent, as JSON',
} as const;

export type PredefinedPlaceholder = keyof typeof predefinedPlaceholders;

/** These render JSON objects unescaped, so (as in EventBridge) they may only be a JSON value. */
export const jsonOnlyPlaceholders: ReadonlySet<string> = new Set(['fuze.event', 'fuze.event.json']);

export function isPredefinedPlaceholder(name: string): name is PredefinedPlaceholder {
  return Object.hasOwn(predefinedPlaceholders, name);
}

export interface PlaceholderToken {
  readonly name: string;
  /** Index of the `<`. */
  readonly offset: number;
  /** Index just past the `>`. */
  readonly end: number;
}

export type PlaceholderScan =
  | { readonly ok: true; readonly tokens: ReadonlyMap<number, PlaceholderToken> }
  | { readonly ok: false; readonly message: string; readonly offset: number };

const nameChar = /[A-Za-z0-9_.-]/;

/** Finds every `<name>`; fails on the first `<` that does not open a well-formed placeholder. */
export function scanPlaceholders(template: string): PlaceholderScan {
  const tokens = new Map<number, PlaceholderToken>();
  let from = 0;
  for (;;) {
    const offset = template.indexOf('<', from);
    if (offset === -1) return { ok: true, tokens };
    let end = offset + 1;
    while (end < template.length && nameChar.test(template[end] as string)) end++;
    if (end === offset + 1 || template[end] !== '>') {
      const message =
        end === offset + 1
          ? `"<" at character ${offset + 1} does not open a placeholder: "<" always starts a <name> and cannot be escaped`
          : `placeholder at character ${offset + 1} is not closed: write <${template.slice(offset + 1, end)}> (names use letters, digits, "_", "-", ".")`;
      return { ok: false, message, offset };
    }
    tokens.set(offset, { name: template.slice(offset + 1, end), offset, end: end + 1 });
    from = end + 1;
  }
}
