import type { RetryPolicy } from '@fuze/rules';

/**
 * How long to wait before the retry that follows attempt number `attempt` (1 = after the first).
 * `exponential`: full jitter, random(0, min(maxDelay, initialDelay * 2^(attempt-1))).
 * `fixed`: initialDelay every time.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (policy.backoff === 'fixed') return policy.initialDelayMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
