import { defaultNatsUrl, FuzeError, type Logger } from '@fuze/core';
import { DEFAULT_RETRY_POLICY, type DeliveryTuning, type RetryPolicy } from '@fuze/delivery';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * How to consume one `consumer` target. Each option is read when the consumer is created: the
 * explicit value, then the environment variable named beside it, then the default.
 */
export interface ConsumerOptions {
  /** The target's name in the rules (`targets: [{ name, consumer: {} }]`). */
  target: string;
  /** `FUZE_NATS_URL`; default nats://127.0.0.1:4222. Comma-separated seeds allowed. */
  natsUrl?: string;
  /** Consume over a connection you own (it stays open on `close()`). */
  connection?: NatsConnection;
  /** The server's FUZE_STREAM_PREFIX. `FUZE_STREAM_PREFIX`; default `FUZE`. */
  streamPrefix?: string;
  /**
   * The target's `ordering.partitions`. Leave it out: the consumer reads it from the rule (as
   * published by the routers); given, it must agree with the rule. Without published settings
   * (no router has run yet), default 16 (the rules' default).
   */
  partitions?: number;
  /**
   * The retry policy. Leave it out: the consumer reads the rule's `retry:` (as published by the
   * routers); fields given must agree with it. Without published settings, fields left out take
   * the rules' defaults (10 attempts, exponential backoff with full jitter from 1 s to 5 min, 24 h
   * max age).
   */
  retry?: Partial<RetryPolicy>;
  /** Handler calls running at once in this process. Default 64. */
  maxConcurrency?: number;
  /** Advanced: lease TTL, ack wait, parking budget per partition... (see @fuze/delivery). */
  tuning?: Partial<Omit<DeliveryTuning, 'maxConcurrency'>>;
  /** The connection's name in the server's connection list. Default `fuze-consumer-<target>`. */
  name?: string;
  /** Default: JSON lines on stderr from `warn` up (stderrLogger). */
  logger?: Logger;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedConsumerOptions {
  target: string;
  natsUrl: string;
  connection: NatsConnection | undefined;
  streamPrefix: string;
  partitions: number;
  retry: RetryPolicy;
  /** What the application gave itself, to check against the rule's published settings. */
  given: { partitions: number | undefined; retry: Partial<RetryPolicy> };
  tuning: Partial<DeliveryTuning>;
  name: string;
  logger: Logger | undefined;
}

const targetPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;
const streamPrefixPattern = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Resolves and checks every option, reporting all problems at once (FUZE_CONFIG_INVALID). */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const env = options.env ?? process.env;
  const read = (name: string) => env[name]?.trim() || undefined;
  const problems: string[] = [];
  if (!targetPattern.test(options.target ?? ''))
    problems.push(`target "${options.target}" is invalid: lowercase letters, digits and -, at most 64`);
  const streamPrefix = options.streamPrefix ?? read('FUZE_STREAM_PREFIX') ?? 'FUZE';
  if (!streamPrefixPattern.test(streamPrefix))
    problems.push(`streamPrefix "${streamPrefix}" is invalid: upper-case letters, digits and _ (e.g. FUZE)`);
  const partitions = options.partitions ?? 16;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
    problems.push(
      `partitions=${partitions} is invalid: an integer from 1 to 1024, as the rule's ordering.partitions`,
    );
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1)
    problems.push(`retry.maxAttempts=${retry.maxAttempts} is invalid: a positive integer`);
  for (const field of ['initialDelayMs', 'maxDelayMs', 'maxAgeMs'] as const)
    if (!(retry[field] >= 0))
      problems.push(`retry.${field}=${retry[field]} is invalid: milliseconds, 0 or more`);
  if (retry.backoff !== 'exponential' && retry.backoff !== 'fixed')
    problems.push(`retry.backoff="${retry.backoff}" is invalid: exponential or fixed`);
  const maxConcurrency = options.maxConcurrency ?? 64;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)
    problems.push(`maxConcurrency=${maxConcurrency} is invalid: a positive integer`);
  if (problems.length > 0)
    throw new FuzeError('FUZE_CONFIG_INVALID', `invalid consumer options: ${problems.join('; ')}`, {
      details: { problems },
    });
  return {
    target: options.target,
    natsUrl: options.natsUrl ?? read('FUZE_NATS_URL') ?? defaultNatsUrl,
    connection: options.connection,
    streamPrefix,
    partitions,
    retry,
    given: { partitions: options.partitions, retry: { ...options.retry } },
    tuning: { ...options.tuning, maxConcurrency },
    name: options.name ?? `fuze-consumer-${options.target}`,
    logger: options.logger,
  };
}
