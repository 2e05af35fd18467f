import type { FieldPath } from './document-location.js';
import type { CircuitBreakerPolicy } from './document-types.js';
import { checkKnownFields, readDuration, readInteger, readMapping } from './field-readers.js';
import type { Problems } from './problems.js';

const breakerFields = ['failures', 'window', 'openFor'];
const HOUR = 3_600_000;

/** `circuitBreaker:`; undefined when the target has none. Every field has a default. */
export function readCircuitBreaker(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): CircuitBreakerPolicy | undefined {
  if (raw === undefined) return undefined;
  const breaker = readMapping(raw, path, problems, '{ failures: 20, window: 30s, openFor: 60s }');
  if (!breaker) return undefined;
  checkKnownFields(breaker, path, breakerFields, problems);
  const failures = readInteger(breaker, 'failures', path, problems, { min: 1, max: 10_000, fallback: 20 });
  const window = readDuration(breaker, 'window', path, problems, { min: 1_000, max: HOUR, fallback: 30_000 });
  const openFor = readDuration(breaker, 'openFor', path, problems, {
    min: 1_000,
    max: HOUR,
    fallback: 60_000,
  });
  return { failures, windowMs: window.ms, openForMs: openFor.ms };
}
