/**
 * Every JetStream stream, subject and consumer name Fuze uses, in one place.
 * Stream names are upper-case `<PREFIX>_<ROLE>`; subjects start with the lower-cased prefix.
 */
export interface StreamNames {
  events: string;
  delivery: string;
  dlq: string;
  /** Events held for delayed delivery (`deliverat`/`delay`) until the scheduler takes them. */
  delayed: string;
}

export function streamNames(prefix: string): StreamNames {
  return {
    events: `${prefix}_EVENTS`,
    delivery: `${prefix}_DELIVERY`,
    dlq: `${prefix}_DLQ`,
    delayed: `${prefix}_DELAYED`,
  };
}

export const busNamePattern = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const defaultBus = 'default';

export function subjectRoot(prefix: string): string {
  return prefix.toLowerCase();
}

/**
 * `<p>.events.<bus>.<shard>.<type tokens>`: a CloudEvent type such as com.shop.order.placed
 * becomes four tokens; the shard token is the event's routing shard (`routingShardOf`).
 */
export function eventSubject(prefix: string, bus: string, shard: number, type: string): string {
  return `${subjectRoot(prefix)}.events.${bus}.${shard}.${subjectTokens(type)}`;
}

/** Every event of one bus, on every shard: what a tail or an archive replay reads. */
export function busEventsFilter(prefix: string, bus: string): string {
  return `${subjectRoot(prefix)}.events.${bus}.>`;
}

/** Every event of one routing shard, on every bus: what one router shard consumes. */
export function eventsShardFilter(prefix: string, shard: number): string {
  return `${subjectRoot(prefix)}.events.*.${shard}.>`;
}

/** The bus an events-stream subject belongs to. */
export function busOfEventSubject(prefix: string, subject: string): string | undefined {
  const root = `${subjectRoot(prefix)}.events.`;
  if (!subject.startsWith(root)) return undefined;
  const rest = subject.slice(root.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? undefined : rest.slice(0, dot);
}

export function deliverySubject(prefix: string, target: string, partition: number | 'unordered'): string {
  return `${subjectRoot(prefix)}.deliver.${target}.${partition}`;
}

export function dlqSubject(prefix: string, target: string): string {
  return `${subjectRoot(prefix)}.dlq.${target}`;
}

/** `<p>.delayed.<bus>.<type tokens>`: an event held until its `deliverat`/`delay` time. */
export function delayedSubject(prefix: string, bus: string, type: string): string {
  return `${subjectRoot(prefix)}.delayed.${bus}.${subjectTokens(type)}`;
}

export function delayedSubjectFilter(prefix: string, bus?: string): string {
  return `${subjectRoot(prefix)}.delayed.${bus ?? '*'}.>`;
}

/** The bus a delayed-stream subject belongs to. */
export function busOfDelayedSubject(prefix: string, subject: string): string | undefined {
  const root = `${subjectRoot(prefix)}.delayed.`;
  if (!subject.startsWith(root)) return undefined;
  const rest = subject.slice(root.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? undefined : rest.slice(0, dot);
}

/** Header of a held event: when it enters the bus (RFC 3339, UTC), as the publisher resolved it. */
export const deliverAtHeader = 'Fuze-Deliver-At';

/** The scheduler's durable consumer on the delayed stream, shared by all its instances. */
export function delayedConsumerName(prefix: string): string {
  return `${prefix}_SCHEDULER_DELAYED`;
}

export function controlSubject(prefix: string, topic: string): string {
  return `${subjectRoot(prefix)}.control.${topic}`;
}

/**
 * Makes arbitrary text safe as subject tokens: dots stay separators, anything NATS reserves
 * (whitespace, `*`, `>`) or that would make an empty token becomes `_`.
 */
export function subjectTokens(text: string): string {
  const cached = tokenCache.get(text);
  if (cached !== undefined) return cached;
  const tokens = toSubjectTokens(text);
  // Event types are few and repeat on every event: a small cache, cleared when it fills.
  if (tokenCache.size >= 10_000) tokenCache.clear();
  tokenCache.set(text, tokens);
  return tokens;
}

const tokenCache = new Map<string, string>();

function toSubjectTokens(text: string): string {
  return text
    .split('.')
    .map((token) => token.replace(/[^A-Za-z0-9_\-:]/g, '_') || '_')
    .join('.');
}
