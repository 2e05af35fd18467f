import {
  busNamePattern,
  defaultBus,
  defaultNatsUrl,
  FuzeError,
  type Logger,
  reservedBusProblem,
} from '@fuze/core';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * How to reach the bus. Give `natsUrl` (or `connection`) for the direct JetStream path, or
 * `gatewayUrl` for HTTP. Each option is read when the publisher is created: the explicit
 * value, then the environment variable named beside it, then the default.
 */
export interface PublisherOptions {
  /** Direct path. `FUZE_NATS_URL`; default nats://127.0.0.1:4222. Comma-separated seeds allowed. */
  natsUrl?: string;
  /** Direct path over a connection you own (it stays open on `close()`). */
  connection?: NatsConnection;
  /** HTTP path: the gateway's base URL. `FUZE_GATEWAY_URL`. */
  gatewayUrl?: string;
  /** HTTP path: bearer token (FUZE_ADMIN_TOKEN or an API key with `events:publish`). `FUZE_TOKEN`. */
  token?: string;
  /** The bus to publish to; default `default`. */
  bus?: string;
  /** Direct path: the server's FUZE_STREAM_PREFIX. `FUZE_STREAM_PREFIX`; default `FUZE`. */
  streamPrefix?: string;
  /** Direct path: the largest event accepted, as the gateway's FUZE_MAX_EVENT_BYTES; default 256 KiB. */
  maxEventBytes?: number;
  /** HTTP path: events per request; larger batches are split. Default 100, the gateway's limit. */
  maxBatchEvents?: number;
  /** Direct path: wait this long for an ack before sending again (same Nats-Msg-Id); default 5 s. */
  ackTimeoutMs?: number;
  /** How long to keep retrying one event before giving up with FUZE_PUBLISH_TIMEOUT; default 30 s. */
  giveUpAfterMs?: number;
  /** Direct path: publishes awaiting an ack at once; callers wait for room beyond it. Default 4,096. */
  maxInFlight?: number;
  /** Direct path: the connection's name in the server's connection list. */
  name?: string;
  /** Direct path: where NATS connection changes are logged; default JSON lines on stderr from `warn` up. */
  logger?: Logger;
  /** Where the variables above are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface NatsTransportOptions {
  transport: 'nats';
  natsUrl: string;
  connection: NatsConnection | undefined;
  bus: string;
  streamPrefix: string;
  maxEventBytes: number;
  ackTimeoutMs: number;
  giveUpAfterMs: number;
  maxInFlight: number;
  name: string;
  logger: Logger | undefined;
}

export interface HttpTransportOptions {
  transport: 'http';
  gatewayUrl: string;
  token: string | undefined;
  bus: string;
  maxBatchEvents: number;
  giveUpAfterMs: number;
}

const streamPrefixPattern = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Resolves and checks every option, reporting all problems at once (FUZE_CONFIG_INVALID). */
export function resolvePublisherOptions(
  options: PublisherOptions,
): NatsTransportOptions | HttpTransportOptions {
  const env = options.env ?? process.env;
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const problems: string[] = [];
  const bus = options.bus ?? defaultBus;
  if (!busNamePattern.test(bus))
    problems.push(`bus "${bus}" is invalid: use [a-z0-9-], at most 64 characters`);
  const reserved = reservedBusProblem(bus);
  if (reserved) problems.push(reserved);
  const giveUpAfterMs = positive('giveUpAfterMs', options.giveUpAfterMs ?? 30_000, problems);

  const directGiven = options.natsUrl !== undefined || options.connection !== undefined;
  if (directGiven && options.gatewayUrl !== undefined) {
    problems.push('give either natsUrl/connection (direct JetStream) or gatewayUrl (HTTP), not both');
  }
  const natsFromEnv = read('FUZE_NATS_URL');
  const gatewayFromEnv = read('FUZE_GATEWAY_URL');
  // The direct path is the fast one: it wins when nothing explicit chooses.
  const useHttp = options.gatewayUrl !== undefined || (!directGiven && !natsFromEnv && !!gatewayFromEnv);

  if (useHttp) {
    const gatewayUrl = options.gatewayUrl ?? gatewayFromEnv ?? '';
    if (!/^https?:\/\/./.test(gatewayUrl)) {
      problems.push(`gatewayUrl "${gatewayUrl}" is invalid: expected http://host:port or https://...`);
    }
    const maxBatchEvents = positive('maxBatchEvents', options.maxBatchEvents ?? 100, problems);
    fail(problems);
    return {
      transport: 'http',
      gatewayUrl,
      token: options.token ?? read('FUZE_TOKEN'),
      bus,
      maxBatchEvents,
      giveUpAfterMs,
    };
  }

  const streamPrefix = options.streamPrefix ?? read('FUZE_STREAM_PREFIX') ?? 'FUZE';
  if (!streamPrefixPattern.test(streamPrefix)) {
    problems.push(`streamPrefix "${streamPrefix}" is invalid: upper-case letters, digits and _ (e.g. FUZE)`);
  }
  const resolved: NatsTransportOptions = {
    transport: 'nats',
    natsUrl: options.natsUrl ?? natsFromEnv ?? defaultNatsUrl,
    connection: options.connection,
    bus,
    streamPrefix,
    maxEventBytes: positive('maxEventBytes', options.maxEventBytes ?? 256 * 1024, problems),
    ackTimeoutMs: positive('ackTimeoutMs', options.ackTimeoutMs ?? 5_000, problems),
    giveUpAfterMs,
    maxInFlight: positive('maxInFlight', options.maxInFlight ?? 4_096, problems),
    name: options.name ?? 'fuze-sdk-publisher',
    logger: options.logger,
  };
  fail(problems);
  return resolved;
}

function positive(name: string, value: number, problems: string[]): number {
  if (!Number.isInteger(value) || value <= 0)
    problems.push(`${name}=${value} is invalid: expected a positive integer`);
  return value;
}

function fail(problems: string[]): void {
  if (problems.length === 0) return;
  throw new FuzeError('FUZE_CONFIG_INVALID', `invalid publisher options: ${problems.join('; ')}`, {
    details: { problems },
  });
}
