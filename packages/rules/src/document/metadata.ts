import type { FieldPath } from './document-location.js';
import { checkKnownFields, type Mapping, readMapping, readString } from './field-readers.js';
import { checkName } from './names.js';
import type { Problems } from './problems.js';

export interface Metadata {
  readonly name: string | undefined;
  readonly bus: string;
  readonly description: string | undefined;
}

const metadataFields = ['name', 'bus', 'description'];
export const DEFAULT_BUS = 'default';
export const MAX_DESCRIPTION_LENGTH = 1024;

/** `metadata: { name, bus, description }`, shared by every kind. */
export function readMetadata(raw: unknown, problems: Problems): Metadata {
  const path: FieldPath = ['metadata'];
  if (raw === undefined) {
    problems.add(path, '"metadata" is required, with at least a name: metadata: { name: my-rule }');
    return { name: undefined, bus: DEFAULT_BUS, description: undefined };
  }
  const metadata: Mapping | undefined = readMapping(raw, path, problems, '{ name: my-rule }');
  if (!metadata) return { name: undefined, bus: DEFAULT_BUS, description: undefined };
  checkKnownFields(metadata, path, metadataFields, problems);
  return {
    name: readString(metadata, 'name', path, problems, { required: true, check: checkName }),
    bus: readString(metadata, 'bus', path, problems, { check: checkName }) ?? DEFAULT_BUS,
    description: readString(metadata, 'description', path, problems, { maxLength: MAX_DESCRIPTION_LENGTH }),
  };
}
