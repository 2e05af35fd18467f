import type { FieldPath } from './document-location.js';
import { checkKnownFields, readMapping, readString } from './field-readers.js';
import { checkJsonPath } from './ordering-spec.js';
import type { Problems } from './problems.js';

const busSpecFields = ['orderingKey'];

export interface BusSpec {
  readonly orderingKey: string | undefined;
}

/** `spec: { orderingKey }` of a `kind: Bus` document (`spec: {}`: default settings). */
export function readBusSpec(raw: unknown, problems: Problems): BusSpec | undefined {
  const path: FieldPath = ['spec'];
  if (raw === undefined || raw === null) {
    problems.add(
      path,
      '"spec" is required: spec: { orderingKey: "$.data.customerId" }, or spec: {} for none',
    );
    return undefined;
  }
  const spec = readMapping(raw, path, problems, '{ orderingKey: "$.data.customerId" }');
  if (!spec) return undefined;
  checkKnownFields(spec, path, busSpecFields, problems);
  return { orderingKey: readString(spec, 'orderingKey', path, problems, { check: checkJsonPath }) };
}
