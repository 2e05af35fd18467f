import { compileInput, type InputSpec, InvalidInputError } from '../transform/index.js';
import { readCircuitBreaker } from './circuit-breaker-policy.js';
import type { FieldPath } from './document-location.js';
import type { TargetSpec } from './document-types.js';
import { checkKnownFields, readMapping, readString } from './field-readers.js';
import { readMaxConcurrency, readRateLimit } from './flow-limits.js';
import { readHttpDelivery } from './http-target.js';
import { checkName } from './names.js';
import { readNatsDelivery } from './nats-target.js';
import { readOrdering } from './ordering-spec.js';
import type { Problems } from './problems.js';
import { readRetryPolicy } from './retry-policy.js';

const targetKinds = ['http', 'nats', 'consumer'] as const;
const targetFields = [
  'name',
  ...targetKinds,
  'input',
  'ordering',
  'retry',
  'circuitBreaker',
  'rateLimit',
  'maxConcurrency',
];

function readInput(raw: unknown, path: FieldPath, problems: Problems): InputSpec | undefined {
  try {
    return compileInput(raw).spec;
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    // Issue paths start at `input`; re-root them under this target.
    for (const issue of err.issues)
      problems.add([...path, ...issue.segments], issue.message, 'value', issue.offset);
    return undefined;
  }
}

function readConsumer(raw: unknown, path: FieldPath, problems: Problems): boolean {
  if (raw === null) return true;
  const consumer = readMapping(raw, path, problems, '{}');
  if (!consumer) return false;
  for (const key of Object.keys(consumer)) {
    problems.add(
      [...path, key],
      `unknown field "${key}": consumer takes no options, write consumer: {}`,
      'key',
    );
  }
  return true;
}

/** One entry of `spec.targets`; undefined (with problems recorded) when invalid. */
export function readTarget(raw: unknown, path: FieldPath, problems: Problems): TargetSpec | undefined {
  const target = readMapping(
    raw,
    path,
    problems,
    '{ name: billing, http: { url: "http://billing:3000/events" } }',
  );
  if (!target) return undefined;
  const before = problems.count;
  checkKnownFields(target, path, targetFields, problems);
  const name = readString(target, 'name', path, problems, { required: true, check: checkName });
  const kinds = targetKinds.filter((kind) => kind in target);
  if (kinds.length === 0) {
    problems.add(path, 'a target needs exactly one of http, nats or consumer');
  }
  for (const extra of kinds.slice(1)) {
    problems.add(
      [...path, extra],
      `a target has exactly one of http, nats or consumer; this one already has ${kinds[0]}`,
      'key',
    );
  }
  const input = readInput(target['input'], [...path], problems);
  const ordering = readOrdering(target['ordering'], [...path, 'ordering'], problems);
  const retry = readRetryPolicy(target['retry'], [...path, 'retry'], problems);
  const circuitBreaker = readCircuitBreaker(target['circuitBreaker'], [...path, 'circuitBreaker'], problems);
  const rateLimit = readRateLimit(target['rateLimit'], [...path, 'rateLimit'], problems);
  const maxConcurrency = readMaxConcurrency(target, path, problems);
  const kind = kinds[0];
  const common = {
    name: name ?? '',
    input: input ?? 'whole',
    retry,
    ...(ordering ? { ordering } : {}),
    ...(circuitBreaker ? { circuitBreaker } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
  };

  let spec: TargetSpec | undefined;
  if (kind === 'http') {
    const sendsWholeEvent = input === undefined || input === 'whole';
    const http = readHttpDelivery(target['http'], [...path, 'http'], problems, sendsWholeEvent);
    spec = http ? { kind, ...common, http } : undefined;
  } else if (kind === 'nats') {
    const nats = readNatsDelivery(target['nats'], [...path, 'nats'], problems);
    spec = nats ? { kind, ...common, nats } : undefined;
  } else if (kind === 'consumer') {
    spec = readConsumer(target['consumer'], [...path, 'consumer'], problems)
      ? { kind, ...common }
      : undefined;
  }
  return problems.count === before ? spec : undefined;
}
