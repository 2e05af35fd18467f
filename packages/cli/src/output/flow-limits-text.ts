/** A target's flow control as the admin API answers it (`GET /v1/targets`, `POST /v1/apply`). */
export interface FlowLimits {
  circuitBreaker: { failures: number; window: string; openFor: string } | null;
  rateLimit: { perSecond: number; burst: number } | null;
  maxConcurrency: number | null;
}

/** One line of limits, e.g. `50/s burst 100, max 8 in flight, breaker 20 in 30s, open 1m`; `-` for none. */
export function flowLimitsText(limits: FlowLimits | null): string {
  if (!limits) return '-';
  const parts: string[] = [];
  if (limits.rateLimit) parts.push(`${limits.rateLimit.perSecond}/s burst ${limits.rateLimit.burst}`);
  if (limits.maxConcurrency !== null) parts.push(`max ${limits.maxConcurrency} in flight`);
  if (limits.circuitBreaker)
    parts.push(
      `breaker ${limits.circuitBreaker.failures} in ${limits.circuitBreaker.window}, open ${limits.circuitBreaker.openFor}`,
    );
  return parts.length > 0 ? parts.join(', ') : '-';
}
