import { type JsonPath, parseJsonPath } from '@fuze/core';
import type { FieldPath } from '../document/document-location.js';
import { didYouMean } from './closest-match.js';
import { MAX_INPUT_TEXT_LENGTH } from './constant-input.js';
import type { InputIssues } from './input-errors.js';
import { APPLICATION_JSON, type InputContext, type InputTransformer, TEXT_PLAIN } from './input-types.js';
import { parseJsonTemplate } from './json-template-parser.js';
import {
  isPredefinedPlaceholder,
  jsonOnlyPlaceholders,
  predefinedPlaceholders,
  scanPlaceholders,
} from './template-placeholders.js';
import { renderSegments, SegmentBuilder, type TemplateSegment } from './template-segments.js';

/** EventBridge allows up to 100 entries in InputPathsMap. */
export const MAX_INPUT_PATHS = 100;

const pathNamePattern = /^[A-Za-z0-9_-]+$/;

function compilePaths(raw: unknown, at: FieldPath, issues: InputIssues): Map<string, JsonPath> {
  const paths = new Map<string, JsonPath>();
  if (raw === undefined || raw === null) return paths;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.add(at, 'must be a mapping of placeholder names to JSON paths, e.g. { id: "$.data.orderId" }');
    return paths;
  }
  const entries = Object.entries(raw);
  if (entries.length > MAX_INPUT_PATHS) {
    issues.add(at, `defines ${entries.length} paths; the limit is ${MAX_INPUT_PATHS}`);
  }
  for (const [name, value] of entries) {
    if (name.startsWith('fuze.')) {
      issues.add(
        [...at, name],
        `"${name}" is reserved: names starting with "fuze." are predefined placeholders`,
      );
      continue;
    }
    if (!pathNamePattern.test(name)) {
      issues.add([...at, name], `placeholder name "${name}" may only use letters, digits, "_" and "-"`);
      continue;
    }
    if (typeof value !== 'string') {
      issues.add([...at, name], 'must be a JSON path string such as "$.data.orderId"');
      continue;
    }
    const parsed = parseJsonPath(value);
    if (parsed.ok) paths.set(name, parsed.path);
    else issues.add([...at, name], parsed.message);
  }
  return paths;
}

/**
 * Splits a template into segments. The rule deciding JSON or text output, documented in
 * docs/rule-documents.md: a template that parses as JSON (placeholders standing for values or sitting in
 * strings) is JSON; one that does not is plain text, unless it starts with `{`, `[` or `"` — then it was
 * meant to be JSON and is rejected, rather than silently sent as broken JSON.
 */
function compileSegments(
  template: string,
  at: FieldPath,
  issues: InputIssues,
): { segments: TemplateSegment[]; json: boolean } | undefined {
  const scan = scanPlaceholders(template);
  if (!scan.ok) {
    issues.add(at, scan.message, scan.offset);
    return undefined;
  }
  const json = parseJsonTemplate(template, scan.tokens);
  if (json.ok) return { segments: json.segments, json: true };
  const first = template.trimStart()[0];
  if (first === '{' || first === '[' || first === '"') {
    issues.add(at, `is not valid JSON at character ${json.offset + 1}: ${json.message}`, json.offset);
    return undefined;
  }
  const text = new SegmentBuilder();
  let from = 0;
  for (const token of scan.tokens.values()) {
    text.literal(template.slice(from, token.offset));
    text.placeholder(token.name, 'text', token.offset);
    from = token.end;
  }
  text.literal(template.slice(from));
  return { segments: text.finish(), json: false };
}

function checkPlaceholders(
  segments: readonly TemplateSegment[],
  paths: ReadonlyMap<string, JsonPath>,
  pathsValid: boolean,
  at: FieldPath,
  issues: InputIssues,
): void {
  for (const segment of segments) {
    if (segment.kind !== 'placeholder') continue;
    const { name, offset } = segment;
    if (isPredefinedPlaceholder(name)) {
      if (jsonOnlyPlaceholders.has(name) && segment.context !== 'value') {
        issues.add(at, `<${name}> can only be used as a JSON value, e.g. {"event": <${name}>}`, offset);
      }
    } else if (!paths.has(name) && pathsValid) {
      const known = [...paths.keys(), ...Object.keys(predefinedPlaceholders)];
      issues.add(
        at,
        `unknown placeholder <${name}> at character ${offset + 1}: define it under input.paths.${didYouMean(name, known)}`,
        offset,
      );
    }
  }
}

function lookupFor(
  paths: ReadonlyMap<string, JsonPath>,
  event: Readonly<Record<string, unknown>>,
  context: InputContext | undefined,
): (name: string) => unknown {
  return (name) => {
    const path = paths.get(name);
    if (path) return path.read(event);
    switch (name) {
      case 'fuze.rule-name':
        return context?.ruleName;
      case 'fuze.ingestion-time': {
        const time = context?.ingestionTime;
        if (time instanceof Date) return time.toISOString();
        return time ?? (typeof event['time'] === 'string' ? event['time'] : undefined);
      }
      case 'fuze.event': {
        const { data: _data, data_base64: _base64, ...attributes } = event;
        return attributes;
      }
      case 'fuze.event.json':
        return event;
      default:
        return undefined;
    }
  };
}

/** `input: { paths, template }`; returns undefined (having recorded issues) when invalid. */
export function compileTemplateInput(
  rawPaths: unknown,
  rawTemplate: unknown,
  at: FieldPath,
  issues: InputIssues,
): InputTransformer | undefined {
  const before = issues.list.length;
  const paths = compilePaths(rawPaths, [...at, 'paths'], issues);
  const pathsValid = issues.list.length === before;
  const templateAt = [...at, 'template'];
  if (typeof rawTemplate !== 'string' || rawTemplate.trim() === '') {
    issues.add(templateAt, 'is required: a non-empty string such as \'{"order": <id>}\'');
    return undefined;
  }
  if (rawTemplate.length > MAX_INPUT_TEXT_LENGTH) {
    issues.add(templateAt, `is ${rawTemplate.length} characters long; the limit is ${MAX_INPUT_TEXT_LENGTH}`);
    return undefined;
  }
  const compiled = compileSegments(rawTemplate, templateAt, issues);
  if (!compiled) return undefined;
  checkPlaceholders(compiled.segments, paths, pathsValid, templateAt, issues);
  if (issues.list.length > before) return undefined;

  const { segments } = compiled;
  const contentType = compiled.json ? APPLICATION_JSON : TEXT_PLAIN;
  const spec = {
    paths: Object.fromEntries([...paths].map(([name, path]) => [name, path.text])),
    template: rawTemplate,
  };
  return {
    kind: 'template',
    spec,
    apply: (event, context) => ({
      body: renderSegments(segments, lookupFor(paths, event, context)),
      contentType,
    }),
  };
}
