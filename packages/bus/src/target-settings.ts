import type { CircuitBreakerPolicy, RateLimitPolicy, RetryPolicy } from '@fuze/rules';
import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from './compare-and-swap.js';

/**
 * What a `consumer` target's rule says, for the SDK consumers that deliver it: they cannot read
 * Postgres, so routers copy it into the routing bucket (`target.<name>`) whenever they load the
 * rules, as they do each bus's routing. `revision` is the newest revision of the rules naming it.
 */
export interface PublishedTargetSettings {
  revision: number;
  partitions: number;
  retry: RetryPolicy;
  circuitBreaker?: CircuitBreakerPolicy;
  rateLimit?: RateLimitPolicy;
  maxConcurrency?: number;
}

export function targetSettingsKey(target: string): string {
  return `target.${target}`;
}

/**
 * Writes a target's settings unless the bucket holds them from the same or a newer revision
 * (compare-and-swap: several routers write, and one that loaded older rules must not undo newer
 * ones). Returns whether it wrote.
 */
export async function publishTargetSettings(
  kv: KV,
  target: string,
  settings: PublishedTargetSettings,
): Promise<boolean> {
  const key = targetSettingsKey(target);
  const value = JSON.stringify(settings);
  for (;;) {
    const current = await kv.get(key);
    try {
      if (current === null) {
        await kv.create(key, value);
        return true;
      }
      if (current.operation === 'PUT' && current.string() === value) return false;
      if (
        current.operation === 'PUT' &&
        (current.json() as PublishedTargetSettings).revision > settings.revision
      )
        return false;
      await kv.update(key, value, current.revision);
      return true;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }
}

/** A target's published settings, or undefined when no router has published them (yet). */
export async function readTargetSettings(
  kv: KV,
  target: string,
): Promise<PublishedTargetSettings | undefined> {
  const entry = await kv.get(targetSettingsKey(target));
  return entry && entry.operation === 'PUT' ? (entry.json() as PublishedTargetSettings) : undefined;
}
