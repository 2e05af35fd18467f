import { type PublishedTargetSettings, targetSettingsKey } from '@fuze/bus';
import { FuzeError, type Logger } from '@fuze/core';
import type { FlowSettings, RetryPolicy } from '@fuze/delivery';
import type { KV } from '@nats-io/kv';
import type { ResolvedConsumerOptions } from './consumer-options.js';

/** How a consumer delivers its target: the rule's settings, or its own options without them. */
export interface ConsumerSettings {
  partitions: number;
  retry: RetryPolicy;
  /** The rule's circuit breaker, rate limit and maxConcurrency; none without published settings. */
  flow: FlowSettings | undefined;
}

/**
 * The rule is the one source of truth: a consumer takes its target's partitions, retry policy and
 * flow control from the settings the routers publish, and refuses options that disagree with them,
 * naming each (FUZE_CONFIG_INVALID). Without published settings (no router has run against this
 * NATS yet) it uses its options, as before.
 */
export function consumerSettings(
  options: ResolvedConsumerOptions,
  published: PublishedTargetSettings | undefined,
): ConsumerSettings {
  if (!published) return { partitions: options.partitions, retry: options.retry, flow: undefined };
  const problems: string[] = [];
  const given = options.given;
  if (given.partitions !== undefined && given.partitions !== published.partitions)
    problems.push(
      `partitions=${given.partitions}, the rule's ordering.partitions is ${published.partitions}`,
    );
  for (const [field, value] of Object.entries(given.retry) as Array<[keyof RetryPolicy, unknown]>) {
    if (value !== undefined && value !== published.retry[field])
      problems.push(`retry.${field}=${String(value)}, the rule's is ${String(published.retry[field])}`);
  }
  if (problems.length > 0)
    throw new FuzeError(
      'FUZE_CONFIG_INVALID',
      `the options of the consumer of target ${options.target} disagree with its rule: ${problems.join('; ')}. ` +
        'Leave them out (the consumer reads the rule), or change the rule',
      { details: { problems } },
    );
  return {
    partitions: published.partitions,
    retry: published.retry,
    flow: {
      ...(published.circuitBreaker ? { circuitBreaker: published.circuitBreaker } : {}),
      ...(published.rateLimit ? { rateLimit: published.rateLimit } : {}),
      ...(published.maxConcurrency === undefined ? {} : { maxConcurrency: published.maxConcurrency }),
    },
  };
}

/**
 * Keeps `live.value` current as routers publish changes of the rule: the retry policy and flow
 * control of later attempts follow at once; a new partition count, or options that now disagree,
 * are logged (the consumer must be restarted for those) and the settings in force are kept.
 */
export async function followRuleSettings(
  kv: KV,
  options: ResolvedConsumerOptions,
  live: { value: ConsumerSettings },
  logger: Logger,
): Promise<{ stop(): void }> {
  const watch = await kv.watch({ key: targetSettingsKey(options.target) });
  void (async () => {
    for await (const entry of watch) {
      if (entry.operation !== 'PUT') continue;
      let next: ConsumerSettings;
      try {
        next = consumerSettings(options, entry.json() as PublishedTargetSettings);
      } catch (err) {
        logger.error(
          { err, target: options.target },
          'the rule changed and now disagrees with this consumer',
        );
        continue;
      }
      if (next.partitions !== live.value.partitions) {
        logger.warn(
          { target: options.target, partitions: next.partitions, consuming: live.value.partitions },
          "the rule's partition count changed: restart this consumer to consume the new partitions",
        );
        next = { ...next, partitions: live.value.partitions };
      }
      live.value = next;
    }
  })().catch((err: unknown) => logger.warn({ err }, 'the watch of the rule settings ended'));
  return { stop: () => watch.stop() };
}
