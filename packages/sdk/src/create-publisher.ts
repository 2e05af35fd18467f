import { HttpPublisher } from './http-publisher.js';
import { NatsPublisher } from './nats-publisher.js';
import { type PublisherOptions, resolvePublisherOptions } from './options.js';
import type { Publisher } from './publisher.js';

/**
 * A publisher for one bus. With `natsUrl` (or `connection`, or FUZE_NATS_URL) it publishes
 * straight to JetStream, the fast path; with `gatewayUrl` (or FUZE_GATEWAY_URL alone) it goes
 * through the gateway over HTTP. Nothing connects until the first publish. Throws
 * FUZE_CONFIG_INVALID listing every bad option.
 */
export function createPublisher(options: PublisherOptions = {}): Publisher {
  const resolved = resolvePublisherOptions(options);
  return resolved.transport === 'http' ? new HttpPublisher(resolved) : new NatsPublisher(resolved);
}
