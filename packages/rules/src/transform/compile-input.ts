import type { FieldPath } from '../document/document-location.js';
import { didYouMean } from './closest-match.js';
import { constantInput, MAX_INPUT_TEXT_LENGTH } from './constant-input.js';
import { eventDataInput } from './event-data-input.js';
import { InputIssues } from './input-errors.js';
import type { InputTransformer } from './input-types.js';
import { compileTemplateInput } from './template-input.js';
import { wholeEventInput } from './whole-event-input.js';

const inputKinds = ['whole', 'data'];
const inputFields = ['constant', 'paths', 'template'];

function compileConstant(raw: unknown, at: FieldPath, issues: InputIssues): InputTransformer | undefined {
  // A YAML mapping or list is accepted and sent as its JSON text, so users need not hand-quote JSON.
  const text = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
  if (text === undefined) {
    issues.add(at, 'needs a value: text, or a YAML value to send as JSON');
    return undefined;
  }
  if (text.length > MAX_INPUT_TEXT_LENGTH) {
    issues.add(at, `is ${text.length} characters long; the limit is ${MAX_INPUT_TEXT_LENGTH}`);
    return undefined;
  }
  return constantInput(text);
}

function compileMapping(spec: Record<string, unknown>, issues: InputIssues): InputTransformer | undefined {
  let valid = true;
  for (const key of Object.keys(spec)) {
    if (!inputFields.includes(key)) {
      issues.add(
        ['input', key],
        `unknown field "${key}".${didYouMean(key, inputFields)} An input has either constant, or paths and template.`,
      );
      valid = false;
    }
  }
  if ('constant' in spec) {
    if ('paths' in spec || 'template' in spec) {
      issues.add(['input'], 'has both constant and paths/template: keep one');
      return undefined;
    }
    const constant = compileConstant(spec['constant'], ['input', 'constant'], issues);
    return valid ? constant : undefined;
  }
  if (!('template' in spec)) {
    issues.add(['input'], 'needs a template (with optional paths), or a constant');
    return undefined;
  }
  const template = compileTemplateInput(spec['paths'], spec['template'], ['input'], issues);
  return valid ? template : undefined;
}

/**
 * Compiles a target's `input` (see InputSpec); absent means `whole`. Called when a rule is applied, so
 * every problem surfaces then, never while delivering.
 * @throws InvalidInputError listing every problem, each with a path such as `input.template`.
 */
export function compileInput(spec: unknown): InputTransformer {
  const issues = new InputIssues();
  let transformer: InputTransformer | undefined;
  if (spec === undefined || spec === null || spec === 'whole') transformer = wholeEventInput;
  else if (spec === 'data') transformer = eventDataInput;
  else if (typeof spec === 'string') {
    issues.add(
      ['input'],
      `"${spec}" is not an input kind: use whole, data, { constant }, or { paths, template }.${didYouMean(spec, inputKinds)}`,
    );
  } else if (typeof spec === 'object' && !Array.isArray(spec)) {
    transformer = compileMapping(spec as Record<string, unknown>, issues);
  } else {
    issues.add(['input'], 'must be whole, data, { constant }, or { paths, template }');
  }
  issues.throwIfAny();
  if (!transformer) throw new TypeError('compileInput: no transformer and no issue recorded');
  return transformer;
}
