import type { FieldPath } from './document-location.js';
import type { ScheduledEvent } from './document-types.js';
import { checkKnownFields, readMapping, readString } from './field-readers.js';
import type { Problems } from './problems.js';

const eventFields = ['type', 'source', 'subject', 'datacontenttype', 'dataschema', 'data', 'extensions'];
/** CloudEvents attribute names: lowercase letters and digits, at most 20 characters. */
const extensionNamePattern = /^[a-z0-9]{1,20}$/;
const contextAttributes = new Set([
  'id',
  'source',
  'specversion',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
  'data',
  'data_base64',
]);

function nonEmpty(text: string): string | undefined {
  return text.trim() === '' ? 'cannot be empty' : undefined;
}

function readExtensions(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): Record<string, string | number | boolean> {
  const extensions: Record<string, string | number | boolean> = {};
  if (raw === undefined || raw === null) return extensions;
  const mapping = readMapping(raw, path, problems, '{ tenant: acme }');
  if (!mapping) return extensions;
  for (const [name, value] of Object.entries(mapping)) {
    if (!extensionNamePattern.test(name)) {
      problems.add(
        [...path, name],
        `"${name}" is not a CloudEvents attribute name: use 1-20 lowercase letters and digits`,
        'key',
      );
    } else if (contextAttributes.has(name)) {
      problems.add([...path, name], `"${name}" is a CloudEvents context attribute, not an extension`, 'key');
    } else if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isInteger(value))
    ) {
      extensions[name] = value;
    } else {
      problems.add([...path, name], 'an extension value is a string, an integer or a boolean');
    }
  }
  return extensions;
}

/** `spec.event` of a Schedule: the CloudEvent to publish when it fires. */
export function readScheduledEvent(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): ScheduledEvent | undefined {
  if (raw === undefined || raw === null) {
    problems.add(
      path,
      '"event" is required: the CloudEvent to publish, e.g. { type: com.shop.report.due, source: /scheduler }',
    );
    return undefined;
  }
  const event = readMapping(raw, path, problems, '{ type: com.shop.report.due, source: /scheduler }');
  if (!event) return undefined;
  checkKnownFields(event, path, eventFields, problems);
  const type = readString(event, 'type', path, problems, { required: true, check: nonEmpty });
  const source = readString(event, 'source', path, problems, { required: true, check: nonEmpty });
  const subject = readString(event, 'subject', path, problems);
  const datacontenttype = readString(event, 'datacontenttype', path, problems, { check: nonEmpty });
  const dataschema = readString(event, 'dataschema', path, problems, { check: nonEmpty });
  const extensions = readExtensions(event['extensions'], [...path, 'extensions'], problems);
  if (type === undefined || source === undefined) return undefined;
  return {
    type,
    source,
    ...(subject === undefined ? {} : { subject }),
    ...(datacontenttype === undefined ? {} : { datacontenttype }),
    ...(dataschema === undefined ? {} : { dataschema }),
    ...('data' in event ? { data: event['data'] } : {}),
    extensions,
  };
}
