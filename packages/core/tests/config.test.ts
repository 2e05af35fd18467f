import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  FuzeError,
  knownVariablePrefixes,
  knownVariables,
  loadConfig,
  redactConfig,
  systemEventTypes,
  unknownVariableProblems,
} from '../src/index.js';

describe('loadConfig', () => {
  test('defaults match the documented ones', () => {
    const config = loadConfig({});
    expect(config.nats).toEqual({ url: 'nats://127.0.0.1:4222', urlIsDefault: true, embedded: 'auto' });
    expect(config.database.url).toBeUndefined();
    expect(config.http).toEqual({
      host: '127.0.0.1',
      gatewayPort: 8080,
      adminPort: 8081,
      metricsPort: 9464,
      requestTimeoutMs: 30_000,
    });
    expect(config.streams).toEqual({
      prefix: 'FUZE',
      replicas: 1,
      eventsMaxAgeMs: 7 * 86_400_000,
      dlqMaxAgeMs: 30 * 86_400_000,
      dedupeWindowMs: 120_000,
      routingShards: 16,
    });
    expect(config.gateway.maxEventBytes).toBe(262_144);
    expect(config.log.level).toBe('info');
    expect(config.dataDir).toMatch(/\.fuze$/);
  });

  test('reports every problem at once, each naming its variable', () => {
    let error: unknown;
    try {
      loadConfig({
        FUZE_NATS_URL: 'http://nats:4222',
        FUZE_DATABASE_URL: 'mysql://x',
        FUZE_GATEWAY_PORT: '99999',
        FUZE_ADMIN_PORT: 'eighty',
        FUZE_STREAM_PREFIX: 'fuze-prod',
        FUZE_LOG_LEVEL: 'loud',
        FUZE_ADMIN_TOKEN: 'short',
        FUZE_EVENTS_MAX_AGE: 'forever',
        FUZE_SYSTEM_EVENTS: 'dev.fuze.timer.fired,dev.fuze.timer.exploded',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FuzeError);
    const problems = (error as FuzeError).details.problems as string[];
    const named = problems.map((p) => p.split(/[ =]/)[0]).sort();
    expect(named).toEqual([
      'FUZE_ADMIN_PORT',
      'FUZE_ADMIN_TOKEN',
      'FUZE_DATABASE_URL',
      'FUZE_EVENTS_MAX_AGE',
      'FUZE_GATEWAY_PORT',
      'FUZE_LOG_LEVEL',
      'FUZE_NATS_URL',
      'FUZE_STREAM_PREFIX',
      'FUZE_SYSTEM_EVENTS:',
    ]);
    expect(problems.find((p) => p.startsWith('FUZE_SYSTEM_EVENTS'))).toContain('"dev.fuze.timer.exploded"');
    expect((error as FuzeError).code).toBe('FUZE_CONFIG_INVALID');
    expect((error as FuzeError).message).toContain('9 problems');
  });

  test('two services on one port is a problem', () => {
    expect(() => loadConfig({ FUZE_GATEWAY_PORT: '9000', FUZE_ADMIN_PORT: '9000' })).toThrow(
      /FUZE_GATEWAY_PORT and FUZE_ADMIN_PORT/,
    );
  });

  test('accepts a NATS seed list and explicit values; the result is frozen', () => {
    const config = loadConfig({
      FUZE_NATS_URL: 'nats://a:4222,nats://b:4222',
      FUZE_DATABASE_URL: 'postgres://fuze:secret@db:5432/fuze',
      FUZE_DEDUPE_WINDOW: '10m',
      FUZE_STREAM_REPLICAS: '3',
    });
    expect(config.nats.urlIsDefault).toBe(false);
    expect(config.streams.dedupeWindowMs).toBe(600_000);
    expect(Object.isFrozen(config.streams)).toBe(true);
    expect(JSON.stringify(redactConfig(config))).not.toContain('secret');
  });

  test('FUZE_SYSTEM_EVENTS chooses the system events published: all by default, none, or a list', () => {
    expect([...loadConfig({}).systemEvents]).toEqual([...systemEventTypes]);
    expect(loadConfig({ FUZE_SYSTEM_EVENTS: 'none' }).systemEvents.size).toBe(0);
    const some = loadConfig({ FUZE_SYSTEM_EVENTS: 'dev.fuze.timer.failed, dev.fuze.delivery.dead-lettered' });
    expect([...some.systemEvents].sort()).toEqual([
      'dev.fuze.delivery.dead-lettered',
      'dev.fuze.timer.failed',
    ]);
    expect((redactConfig(some) as { systemEvents: string[] }).systemEvents).toHaveLength(2);
  });

  test('FUZE_TRACE_URL is an http(s) URL with {traceId} in it', () => {
    expect(loadConfig({}).traceUrl).toBeUndefined();
    const jaeger = 'http://jaeger:16686/trace/{traceId}';
    expect(loadConfig({ FUZE_TRACE_URL: jaeger }).traceUrl).toBe(jaeger);
    expect(() => loadConfig({ FUZE_TRACE_URL: 'http://jaeger:16686/trace/' })).toThrow(
      'FUZE_TRACE_URL="http://jaeger:16686/trace/" is invalid: put {traceId} where the trace id goes',
    );
    expect(() => loadConfig({ FUZE_TRACE_URL: 'jaeger/{traceId}' })).toThrow(
      'FUZE_TRACE_URL="jaeger/{traceId}" is invalid',
    );
  });
});

describe('FUZE_* variables Fuze does not read', () => {
  test('are named with the nearest known variable, or pointed to the docs when nothing is close', () => {
    expect(
      unknownVariableProblems({
        FUZE_GATEWAY_PROT: '1',
        FUZE_NATSURL: 'x',
        FUZE_TOTALLY_DIFFERENT_THING: 'x',
        FUZE_SECRET_BILLING_KEY: 'whsec_x',
        FUZE_SECRET_: 'no name',
        FUZE_LOG_LEVEL: 'info',
        NOT_FUZE: 'x',
      }),
    ).toEqual([
      'FUZE_GATEWAY_PROT is not a Fuze variable: did you mean FUZE_GATEWAY_PORT?',
      'FUZE_NATSURL is not a Fuze variable: did you mean FUZE_NATS_URL?',
      'FUZE_SECRET_ is not a Fuze variable: did you mean FUZE_SECRETS_DIR?',
      'FUZE_TOTALLY_DIFFERENT_THING is not a Fuze variable (docs/configuration.md lists them)',
    ]);
  });

  test('are a problem under strict loading (--verify-config), and ignored otherwise', () => {
    expect(() => loadConfig({ FUZE_GATEWAY_PROT: '1' })).not.toThrow();
    expect(() => loadConfig({ FUZE_GATEWAY_PROT: '1' }, { strict: true })).toThrow(
      /did you mean FUZE_GATEWAY_PORT/,
    );
  });

  test('every variable loadConfig reads is a known one', () => {
    const read = new Set<string>();
    const recording = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, name) => {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    loadConfig(recording);
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((name) => !(knownVariables as readonly string[]).includes(name))).toEqual([]);
  });

  test('docs/configuration.md documents exactly the variables Fuze reads', () => {
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const documented = [...docs.matchAll(/^\|\s*`(FUZE_[A-Z_]+(?:<NAME>)?)`\s*\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(
      [...knownVariables, ...knownVariablePrefixes.map((prefix) => `${prefix}<NAME>`)].sort(),
    );
  });
});
