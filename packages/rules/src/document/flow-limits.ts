import type { FieldPath } from './document-location.js';
import type { RateLimitPolicy } from './document-types.js';
import { checkKnownFields, readInteger, readMapping } from './field-readers.js';
import type { Problems } from './problems.js';

/** `rateLimit:`; undefined when the target has none. `burst` defaults to `perSecond`. */
export function readRateLimit(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
): RateLimitPolicy | undefined {
  if (raw === undefined) return undefined;
  const limit = readMapping(raw, path, problems, '{ perSecond: 50, burst: 100 }');
  if (!limit) return undefined;
  checkKnownFields(limit, path, ['perSecond', 'burst'], problems);
  if (limit['perSecond'] === undefined)
    problems.add([...path], 'perSecond is required, e.g. { perSecond: 50 }');
  const perSecond = readInteger(limit, 'perSecond', path, problems, { min: 1, max: 100_000, fallback: 1 });
  const burst = readInteger(limit, 'burst', path, problems, { min: 1, max: 1_000_000, fallback: perSecond });
  return { perSecond, burst };
}

/** `maxConcurrency:` requests in flight for the whole target; undefined when unlimited. */
export function readMaxConcurrency(
  target: Record<string, unknown>,
  path: FieldPath,
  problems: Problems,
): number | undefined {
  if (target['maxConcurrency'] === undefined) return undefined;
  return readInteger(target, 'maxConcurrency', path, problems, { min: 1, max: 10_000, fallback: 1 });
}
