import { resolve } from 'node:path';
import { defaultRoutingShards } from '../cloudevent/routing-shard.js';
import { FuzeError } from '../errors/index.js';
import { type SystemEventType, systemEventTypes } from '../system-events/system-events.js';
import { parseDuration } from '../time/duration.js';
import { type FuzeConfig, type LogLevel, logLevels } from './fuze-config.js';
import { unknownVariableProblems } from './known-variables.js';

export const defaultNatsUrl = 'nats://127.0.0.1:4222';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads every FUZE_* variable, validates all of them and reports every problem at once,
 * each naming its variable, so a bad deployment is fixed in one round trip. With `strict`
 * (`fuze serve --verify-config`), a FUZE_* variable Fuze does not read is a problem too.
 */
export function loadConfig(env: Env = process.env, options: { strict?: boolean } = {}): FuzeConfig {
  const problems: string[] = options.strict ? unknownVariableProblems(env) : [];
  const read = new VariableReader(env, problems);

  const dataDir = resolve(read.string('FUZE_DATA_DIR', './.fuze'));
  const natsUrl = read.url('FUZE_NATS_URL', defaultNatsUrl, ['nats:', 'tls:', 'ws:', 'wss:']);
  const databaseUrl = read.optionalUrl('FUZE_DATABASE_URL', ['postgres:', 'postgresql:']);
  const config: FuzeConfig = {
    dataDir,
    nats: {
      url: natsUrl,
      urlIsDefault: env.FUZE_NATS_URL === undefined || env.FUZE_NATS_URL === '',
      embedded: read.oneOf('FUZE_EMBEDDED_NATS', ['auto', 'never'] as const, 'auto'),
    },
    database: { url: databaseUrl },
    http: {
      host: read.string('FUZE_HOST', '127.0.0.1'),
      gatewayPort: read.port('FUZE_GATEWAY_PORT', 8080),
      adminPort: read.port('FUZE_ADMIN_PORT', 8081),
      metricsPort: read.port('FUZE_METRICS_PORT', 9464),
      requestTimeoutMs: read.duration('FUZE_HTTP_REQUEST_TIMEOUT', '30s'),
    },
    auth: { adminToken: read.optionalSecret('FUZE_ADMIN_TOKEN') },
    streams: {
      prefix: read.matching(
        'FUZE_STREAM_PREFIX',
        'FUZE',
        /^[A-Z][A-Z0-9_]{0,31}$/,
        'upper-case letters, digits and _, starting with a letter (e.g. FUZE)',
      ),
      replicas: read.integer('FUZE_STREAM_REPLICAS', 1, 1, 5),
      eventsMaxAgeMs: read.duration('FUZE_EVENTS_MAX_AGE', '7d'),
      dlqMaxAgeMs: read.duration('FUZE_DLQ_MAX_AGE', '30d'),
      dedupeWindowMs: read.duration('FUZE_DEDUPE_WINDOW', '2m'),
      routingShards: read.integer('FUZE_ROUTING_SHARDS', defaultRoutingShards, 1, 1024),
    },
    gateway: {
      maxEventBytes: read.integer('FUZE_MAX_EVENT_BYTES', 256 * 1024, 1024, 1024 * 1024),
      maxBatchEvents: read.integer('FUZE_MAX_BATCH_EVENTS', 100, 1, 1000),
      publishTimeoutMs: read.duration('FUZE_GATEWAY_PUBLISH_TIMEOUT', '5s'),
      schemasDir: resolve(read.string('FUZE_SCHEMAS_DIR', './schemas/events')),
    },
    log: { level: read.oneOf('FUZE_LOG_LEVEL', logLevels, 'info' as LogLevel) },
    traceUrl: read.traceUrl('FUZE_TRACE_URL'),
    systemEvents: read.systemEvents('FUZE_SYSTEM_EVENTS'),
  };

  const ports = [
    ['FUZE_GATEWAY_PORT', config.http.gatewayPort],
    ['FUZE_ADMIN_PORT', config.http.adminPort],
    ['FUZE_METRICS_PORT', config.http.metricsPort],
  ] as const;
  for (const [i, [name, port]] of ports.entries()) {
    for (const [other, otherPort] of ports.slice(i + 1)) {
      if (port !== 0 && port === otherPort)
        problems.push(`${name} and ${other} are both ${port}: give each service its own port`);
    }
  }

  if (problems.length > 0) {
    throw new FuzeError(
      'FUZE_CONFIG_INVALID',
      `invalid configuration (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`,
      { details: { problems } },
    );
  }
  return deepFreeze(config);
}

/** The config as `--print-config` shows it: secrets redacted. */
export function redactConfig(config: FuzeConfig): unknown {
  return {
    ...config,
    database: { url: config.database.url?.replace(/\/\/([^:@/]+):[^@]+@/, '//$1:***@') },
    auth: { adminToken: config.auth.adminToken === undefined ? undefined : '***' },
    systemEvents: [...config.systemEvents],
  };
}

class VariableReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalSecret(name: string): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && value.length < 16) {
      this.problems.push(
        `${name} is too short (${value.length} characters): use at least 16, e.g. \`openssl rand -hex 24\``,
      );
    }
    return value;
  }

  matching(name: string, fallback: string, pattern: RegExp, expected: string): string {
    const value = this.string(name, fallback);
    if (!pattern.test(value)) this.problems.push(`${name}="${value}" is invalid: expected ${expected}`);
    return value;
  }

  oneOf<const T extends readonly string[]>(name: string, allowed: T, fallback: T[number]): T[number] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value)) {
      this.problems.push(`${name}="${value}" is invalid: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}="${value}" is invalid: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** `all` (default), `none`, or a comma-separated list of system event types. */
  systemEvents(name: string): ReadonlySet<SystemEventType> {
    const value = this.raw(name) ?? 'all';
    if (value === 'all') return new Set(systemEventTypes);
    if (value === 'none') return new Set();
    const chosen = new Set<SystemEventType>();
    for (const part of value.split(',').map((p) => p.trim())) {
      if ((systemEventTypes as readonly string[]).includes(part)) chosen.add(part as SystemEventType);
      else
        this.problems.push(
          `${name}: "${part}" is not a system event type: expected all, none, or a comma-separated list of ${systemEventTypes.join(', ')}`,
        );
    }
    return chosen;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, 0, 65535);
  }

  duration(name: string, fallback: string): number {
    const value = this.raw(name) ?? fallback;
    try {
      const ms = parseDuration(value);
      if (ms <= 0) throw new Error('not positive');
      return ms;
    } catch {
      this.problems.push(
        `${name}="${value}" is invalid: expected a positive duration such as 30s, 2m, 24h, 7d`,
      );
      return parseDuration(fallback);
    }
  }

  url(name: string, fallback: string, protocols: string[]): string {
    return this.optionalUrl(name, protocols) ?? fallback;
  }

  /** An http(s) URL with `{traceId}` in it, or nothing. */
  traceUrl(name: string): string | undefined {
    const value = this.optionalUrl(name, ['http:', 'https:']);
    if (value === undefined || value.includes('{traceId}')) return value;
    this.problems.push(
      `${name}="${value}" is invalid: put {traceId} where the trace id goes (e.g. http://jaeger:16686/trace/{traceId})`,
    );
    return undefined;
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    // NATS accepts comma-separated seed servers; each must parse.
    for (const part of value.split(',')) {
      try {
        const url = new URL(part.trim());
        if (!protocols.includes(url.protocol)) throw new Error('protocol');
      } catch {
        this.problems.push(
          `${name}="${value}" is invalid: expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
        );
        return undefined;
      }
    }
    return value;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
