import type { InputSpec } from '../transform/index.js';

export const API_VERSION = 'fuze.dev/v1';

/** Where a document came from, for messages that point back at it. */
export interface DocumentSource {
  readonly file: string;
  /** 1-based line of the document's first node. */
  readonly line: number;
}

/**
 * Retrying one delivery. Defaults (DEFAULT_RETRY_POLICY) are EventBridge-like but shorter-fused:
 * 10 attempts, exponential backoff with full jitter from 1s capped at 5m, given up after 24h.
 */
export interface RetryPolicy {
  /** Deliveries in all, the first included (1 = never retry). 1..185. */
  readonly maxAttempts: number;
  /**
   * `exponential`: before retry n (n >= 1) wait random(0, min(maxDelay, initialDelay * 2^(n-1))) ("full jitter").
   * `fixed`: wait initialDelay every time.
   */
  readonly backoff: 'exponential' | 'fixed';
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Give up once the event is this old, whatever maxAttempts says (EventBridge's MaximumEventAgeInSeconds). */
  readonly maxAgeMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  backoff: 'exponential',
  initialDelayMs: 1_000,
  maxDelayMs: 300_000,
  maxAgeMs: 86_400_000,
});

/**
 * A target's circuit breaker, shared by every worker of the target: after `failures` retryable
 * failures within `windowMs`, no attempt is made for `openForMs` (deliveries wait, in order, and
 * spend no attempts); then one probe, whose success closes it.
 */
export interface CircuitBreakerPolicy {
  readonly failures: number;
  readonly windowMs: number;
  readonly openForMs: number;
}

/** Attempts started per second for a target as a whole, across every worker (a token bucket). */
export interface RateLimitPolicy {
  readonly perSecond: number;
  /** Tokens the bucket holds at most: attempts that may start at once after a quiet spell. */
  readonly burst: number;
}

/**
 * Ordered delivery: events with the same key go to the same partition, in order. Without
 * `partitionKey` the event's CloudEvents `partitionkey` extension is the key (no key: unordered).
 */
export interface OrderingSpec {
  /** A `$.` JSON path into the event, e.g. `$.data.customerId`. */
  readonly partitionKey?: string;
  /** 1..1024, default 16; fixed once the target exists (changing it is a migration). */
  readonly partitions: number;
}

export interface HttpDelivery {
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'PATCH';
  /** CloudEvents HTTP binding mode; `structured` (default) sends the event as the JSON body. */
  readonly mode: 'binary' | 'structured';
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Name of the secret whose key signs each request. */
  readonly secretRef?: string;
}

export interface NatsDelivery {
  readonly subject: string;
  /** Publish with JetStream (and wait for its ack) rather than core NATS. */
  readonly jetstream: boolean;
}

interface TargetCommon {
  /** Unique within the rule: lowercase letters, digits and `-`, at most 64 characters. */
  readonly name: string;
  readonly input: InputSpec;
  readonly ordering?: OrderingSpec;
  readonly retry: RetryPolicy;
  readonly circuitBreaker?: CircuitBreakerPolicy;
  readonly rateLimit?: RateLimitPolicy;
  /** Attempts in flight at once for the target as a whole, across every worker. */
  readonly maxConcurrency?: number;
}

export interface HttpTargetSpec extends TargetCommon {
  readonly kind: 'http';
  readonly http: HttpDelivery;
}

export interface NatsTargetSpec extends TargetCommon {
  readonly kind: 'nats';
  readonly nats: NatsDelivery;
}

/** Delivered to the application's SDK consumers of this target (`createConsumer({ target })`). */
export interface ConsumerTargetSpec extends TargetCommon {
  readonly kind: 'consumer';
}

export type TargetSpec = HttpTargetSpec | NatsTargetSpec | ConsumerTargetSpec;

/** A `kind: Rule` document, normalised: defaults filled in, durations in milliseconds. */
export interface RuleDocument {
  readonly kind: 'Rule';
  readonly apiVersion: typeof API_VERSION;
  readonly name: string;
  /** Default `default`. */
  readonly bus: string;
  readonly description?: string;
  /** Default true. A disabled rule is stored but matches nothing. */
  readonly enabled: boolean;
  /** The event pattern as written (validated by compilePattern). */
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly targets: readonly TargetSpec[];
  readonly source: DocumentSource;
}

/** The event a schedule publishes each time it fires; Fuze sets `id`, `time` and `specversion`. */
export interface ScheduledEvent {
  readonly type: string;
  readonly source: string;
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: unknown;
  /** CloudEvents extension attributes (lowercase a-z0-9 names, at most 20 characters). */
  readonly extensions: Readonly<Record<string, string | number | boolean>>;
}

export type ScheduleTiming =
  | { readonly kind: 'at'; readonly at: string }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly timezone: string }
  | { readonly kind: 'rate'; readonly rateMs: number };

/** What to do about firings missed while no scheduler ran. */
export type MisfirePolicy = 'fire-once' | 'fire-all' | 'skip';

/** A `kind: Schedule` document: a timer declared in YAML, normalised. */
export interface ScheduleDocument {
  readonly kind: 'Schedule';
  readonly apiVersion: typeof API_VERSION;
  readonly name: string;
  readonly bus: string;
  readonly description?: string;
  readonly enabled: boolean;
  /** The timer's identity (default: the schedule's name): applying again with the same key updates it. */
  readonly key: string;
  readonly event: ScheduledEvent;
  readonly timing: ScheduleTiming;
  /** Default `fire-once`. */
  readonly misfire: MisfirePolicy;
  readonly source: DocumentSource;
}

/**
 * A `kind: Bus` document: settings of one bus, normalised. `bus` equals `name`. A bus without a
 * document has no settings.
 */
export interface BusDocument {
  readonly kind: 'Bus';
  readonly apiVersion: typeof API_VERSION;
  readonly name: string;
  readonly bus: string;
  readonly description?: string;
  /**
   * A JSON path such as `$.data.customerId`: the bus's events are routed (and so ordered) by its
   * value, ahead of their `partitionkey`, `subject` and `source`.
   */
  readonly orderingKey?: string;
  readonly source: DocumentSource;
}

export type FuzeDocument = RuleDocument | ScheduleDocument | BusDocument;
