import { parseJsonPath } from '../transform/index.js';
import type { FieldPath } from './document-location.js';
import type { OrderingSpec } from './document-types.js';
import { checkKnownFields, readInteger, readMapping, readString } from './field-readers.js';
import type { Problems } from './problems.js';

const orderingFields = ['partitionKey', 'partitions'];
export const MAX_PARTITIONS = 1024;
export const DEFAULT_PARTITIONS = 16;

/** A field-reader check: the JSON path's problem, or undefined when it parses. */
export function checkJsonPath(text: string): string | undefined {
  const parsed = parseJsonPath(text);
  return parsed.ok ? undefined : parsed.message;
}

/** `ordering: { partitionKey, partitions }`, or undefined for unordered delivery. */
export function readOrdering(raw: unknown, path: FieldPath, problems: Problems): OrderingSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  const ordering = readMapping(raw, path, problems, '{ partitionKey: "$.data.customerId", partitions: 16 }');
  if (!ordering) return undefined;
  checkKnownFields(ordering, path, orderingFields, problems);
  const partitionKey = readString(ordering, 'partitionKey', path, problems, { check: checkJsonPath });
  const partitions = readInteger(ordering, 'partitions', path, problems, {
    min: 1,
    max: MAX_PARTITIONS,
    fallback: DEFAULT_PARTITIONS,
  });
  return partitionKey === undefined ? { partitions } : { partitionKey, partitions };
}
