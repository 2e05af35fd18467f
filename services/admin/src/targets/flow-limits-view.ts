import { formatDuration } from '@fuze/core';
import type { TargetSpec } from '@fuze/rules';

/** A target's flow control as the admin API shows it (durations as text, absent limits null). */
export interface FlowLimitsView {
  circuitBreaker: { failures: number; window: string; openFor: string } | null;
  rateLimit: { perSecond: number; burst: number } | null;
  maxConcurrency: number | null;
}

export function flowLimitsView(spec: TargetSpec): FlowLimitsView {
  return {
    circuitBreaker: spec.circuitBreaker
      ? {
          failures: spec.circuitBreaker.failures,
          window: formatDuration(spec.circuitBreaker.windowMs),
          openFor: formatDuration(spec.circuitBreaker.openForMs),
        }
      : null,
    rateLimit: spec.rateLimit ? { perSecond: spec.rateLimit.perSecond, burst: spec.rateLimit.burst } : null,
    maxConcurrency: spec.maxConcurrency ?? null,
  };
}

/** The JSON Schema properties of a `FlowLimitsView`, for the routes that answer one. */
export const flowLimitsProperties = {
  circuitBreaker: {
    type: ['object', 'null'],
    properties: {
      failures: { type: 'integer' },
      window: { type: 'string', description: 'a duration, e.g. 30s' },
      openFor: { type: 'string' },
    },
  },
  rateLimit: {
    type: ['object', 'null'],
    properties: { perSecond: { type: 'integer' }, burst: { type: 'integer' } },
  },
  maxConcurrency: { type: ['integer', 'null'] },
} as const;
