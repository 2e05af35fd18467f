import type { FieldPath } from './document-location.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './document-types.js';
import { formatDuration } from './duration.js';
import { checkKnownFields, readDuration, readEnum, readInteger, readMapping } from './field-readers.js';
import type { Problems } from './problems.js';

const retryFields = ['maxAttempts', 'backoff', 'initialDelay', 'maxDelay', 'maxAge'];

/** EventBridge allows 185 retries; counting the first delivery, Fuze caps attempts at 185. */
export const MAX_ATTEMPTS = 185;
const HOUR = 3_600_000;

/** `retry:`; any field left out takes its DEFAULT_RETRY_POLICY value. */
export function readRetryPolicy(raw: unknown, path: FieldPath, problems: Problems): RetryPolicy {
  if (raw === undefined || raw === null) return DEFAULT_RETRY_POLICY;
  const retry = readMapping(raw, path, problems, '{ maxAttempts: 10, maxAge: 24h }');
  if (!retry) return DEFAULT_RETRY_POLICY;
  checkKnownFields(retry, path, retryFields, problems);
  const defaults = DEFAULT_RETRY_POLICY;
  const maxAttempts = readInteger(retry, 'maxAttempts', path, problems, {
    min: 1,
    max: MAX_ATTEMPTS,
    fallback: defaults.maxAttempts,
  });
  const backoff = readEnum(retry, 'backoff', path, problems, ['exponential', 'fixed'], defaults.backoff);
  const initialDelay = readDuration(retry, 'initialDelay', path, problems, {
    min: 1,
    max: HOUR,
    fallback: defaults.initialDelayMs,
  });
  const maxDelay = readDuration(retry, 'maxDelay', path, problems, {
    min: 1,
    max: 24 * HOUR,
    fallback: defaults.maxDelayMs,
  });
  // EventBridge's MaximumEventAgeInSeconds range: 60s to 24h.
  const maxAge = readDuration(retry, 'maxAge', path, problems, {
    min: 60_000,
    max: 24 * HOUR,
    fallback: defaults.maxAgeMs,
  });
  if (initialDelay.valid && maxDelay.valid && initialDelay.ms > maxDelay.ms) {
    const which = maxDelay.explicit ? 'maxDelay' : 'initialDelay';
    const maxText = `${formatDuration(maxDelay.ms)}${maxDelay.explicit ? '' : ' by default'}`;
    problems.add(
      [...path, which],
      `initialDelay (${formatDuration(initialDelay.ms)}) is longer than maxDelay (${maxText}): lower initialDelay or raise maxDelay`,
    );
  }
  return {
    maxAttempts,
    backoff,
    initialDelayMs: initialDelay.ms,
    maxDelayMs: maxDelay.ms,
    maxAgeMs: maxAge.ms,
  };
}
