import { didYouMean } from '../transform/closest-match.js';
import { readBusSpec } from './bus-spec.js';
import { API_VERSION, type DocumentSource, type FuzeDocument } from './document-types.js';
import { checkKnownFields, isMapping, readMapping } from './field-readers.js';
import { readMetadata } from './metadata.js';
import type { Problems } from './problems.js';
import { readRuleSpec } from './rule-spec.js';
import { readScheduleSpec } from './schedule-spec.js';

const documentFields = ['apiVersion', 'kind', 'metadata', 'spec'];
const kinds = ['Rule', 'Schedule', 'Bus'] as const;
type Kind = (typeof kinds)[number];

function checkApiVersion(value: unknown, problems: Problems): void {
  if (value === undefined)
    problems.add(['apiVersion'], `"apiVersion" is required: add apiVersion: ${API_VERSION}`);
  else if (value !== API_VERSION) {
    problems.add(['apiVersion'], `unsupported apiVersion ${JSON.stringify(value)}: use ${API_VERSION}`);
  }
}

function readKind(value: unknown, problems: Problems): Kind | undefined {
  if (kinds.includes(value as Kind)) return value as Kind;
  if (value === undefined) problems.add(['kind'], '"kind" is required: Rule, Schedule or Bus');
  else {
    const hint = typeof value === 'string' ? didYouMean(value, kinds) : '';
    problems.add(['kind'], `unknown kind ${JSON.stringify(value)}: use Rule, Schedule or Bus.${hint}`);
  }
  return undefined;
}

/** Validates one YAML document (already converted to plain values) and normalises it. */
export function readDocument(
  value: unknown,
  source: DocumentSource,
  problems: Problems,
): { readonly document: FuzeDocument | undefined; readonly name: string | undefined } {
  const root = readMapping(
    value,
    [],
    problems,
    'apiVersion: fuze.dev/v1, kind: Rule, metadata: {...}, spec: {...}',
  );
  if (!root) return { document: undefined, name: undefined };
  const before = problems.count;
  checkKnownFields(root, [], documentFields, problems);
  checkApiVersion(root['apiVersion'], problems);
  const kind = readKind(root['kind'], problems);
  const metadata = readMetadata(root['metadata'], problems);
  // Errors carry the name as written, even when it is not a valid one.
  const rawMetadata = root['metadata'];
  const name =
    isMapping(rawMetadata) && typeof rawMetadata['name'] === 'string' ? rawMetadata['name'] : undefined;
  if (kind === undefined) return { document: undefined, name };

  const common = {
    apiVersion: API_VERSION,
    name: metadata.name ?? '',
    bus: metadata.bus,
    ...(metadata.description === undefined ? {} : { description: metadata.description }),
  } as const;
  let document: FuzeDocument | undefined;
  if (kind === 'Rule') {
    const spec = readRuleSpec(root['spec'], problems);
    if (spec)
      document = {
        kind,
        ...common,
        enabled: spec.enabled,
        pattern: spec.pattern,
        targets: spec.targets,
        source,
      };
  } else if (kind === 'Bus') {
    // A bus document names its bus in metadata.name; metadata.bus would be a second name.
    if (isMapping(rawMetadata) && rawMetadata['bus'] !== undefined)
      problems.add(['metadata', 'bus'], 'a Bus document names its bus in metadata.name: remove metadata.bus');
    const spec = readBusSpec(root['spec'], problems);
    if (spec) {
      const { bus: _bus, ...rest } = common;
      document = {
        kind,
        ...rest,
        bus: common.name,
        ...(spec.orderingKey === undefined ? {} : { orderingKey: spec.orderingKey }),
        source,
      };
    }
  } else {
    const spec = readScheduleSpec(root['spec'], problems);
    if (spec) {
      const { key, ...rest } = spec;
      document = { kind, ...common, ...rest, key: key ?? common.name, source };
    }
  }
  return { document: problems.count === before ? document : undefined, name };
}
