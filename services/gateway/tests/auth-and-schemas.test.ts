import { readStream, waitFor } from '@fuze/test/harness';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from './gateway-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: HTTP answers are read as loose JSON in these tests
type Json = any;

const adminToken = 'test-admin-token-0123456789';
let fx: GatewayFixture;
beforeAll(async () => {
  fx = await startGatewayFixture({ FUZE_ADMIN_TOKEN: adminToken });
});
afterAll(async () => {
  await fx?.close();
});

const event = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ specversion: '1.0', id, source: '/auth', type: 'com.example.x', ...extra });

async function publish(body: string, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/cloudevents+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${fx.gatewayUrl}/v1/events`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Json };
}

async function admin(method: string, path: string, body?: unknown, token = adminToken) {
  const res = await fetch(`${fx.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as Json };
}

describe('bearer auth when FUZE_ADMIN_TOKEN is set', () => {
  test('no token -> 401, wrong token -> 401, admin token -> 202', async () => {
    expect(await publish(event('a-1'))).toMatchObject({ status: 401, body: { code: 'FUZE_UNAUTHORIZED' } });
    expect((await publish(event('a-2'), 'nope')).status).toBe(401);
    expect((await publish(event('a-3'), adminToken)).status).toBe(202);
  });

  test('the scheme is case-insensitive (RFC 9110): bearer and BEARER work; another scheme does not', async () => {
    const send = (authorization: string, id: string) =>
      fetch(`${fx.gatewayUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json', authorization },
        body: event(id),
      }).then((r) => r.status);
    expect(await send(`bearer ${adminToken}`, 'case-1')).toBe(202);
    expect(await send(`BEARER  ${adminToken}`, 'case-2')).toBe(202);
    expect(await send(`Basic ${adminToken}`, 'case-3')).toBe(401);
    expect(await send(`Bearer${adminToken}`, 'case-4')).toBe(401);
  });

  test('an API key without events:publish -> 403; with it -> 202; revoked -> 401', async () => {
    const reader = await admin('POST', '/v1/keys', { name: 'reader', scopes: ['rules:read'] });
    expect(reader.status).toBe(201);
    const denied = await publish(event('k-1'), reader.body.token);
    expect(denied).toMatchObject({
      status: 403,
      body: { code: 'FUZE_FORBIDDEN', requiredScope: 'events:publish' },
    });

    const publisher = await admin('POST', '/v1/keys', { name: 'shop', scopes: ['events:publish'] });
    expect((await publish(event('k-2'), publisher.body.token)).status).toBe(202);
    // the key cannot use the admin API
    expect((await admin('GET', '/v1/schemas', undefined, publisher.body.token)).status).toBe(403);

    expect((await admin('DELETE', `/v1/keys/${publisher.body.id}`)).status).toBe(204);
    // revocation reaches the gateway once its short key cache expires
    await waitFor(async () => (await publish(event('k-3'), publisher.body.token)).status === 401, {
      timeoutMs: 20_000,
      message: 'revoked key still accepted',
    });
  });

  test('a keys:admin key grants only the scopes it holds: no escalation', async () => {
    const keyAdmin = await admin('POST', '/v1/keys', {
      name: 'key-admin',
      scopes: ['keys:admin', 'rules:read'],
    });
    expect(keyAdmin.status).toBe(201);
    const escalated = await admin(
      'POST',
      '/v1/keys',
      { name: 'escalated', scopes: ['rules:read', 'events:publish', 'dlq:write'] },
      keyAdmin.body.token,
    );
    expect(escalated).toMatchObject({ status: 403, body: { code: 'FUZE_FORBIDDEN' } });
    expect(escalated.body.detail).toContain('events:publish, dlq:write');
    const allowed = await admin(
      'POST',
      '/v1/keys',
      { name: 'narrow', scopes: ['rules:read'] },
      keyAdmin.body.token,
    );
    expect(allowed).toMatchObject({ status: 201, body: { scopes: ['rules:read'] } });
  });

  test('admin API rejects a bad key request naming the field', async () => {
    const res = await admin('POST', '/v1/keys', { name: 'x', scopes: ['events:fly'] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_REQUEST');
    expect(res.body.errors[0].pointer).toBe('body.scopes.0');
  });

  test('health endpoints need no token', async () => {
    expect((await fetch(`${fx.gatewayUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${fx.gatewayUrl}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: true, postgres: true } });
    expect((await fetch(`${fx.adminUrl}/readyz`)).status).toBe(200);
  });
});

describe('event data schemas registered through the admin API', () => {
  test('the gateway picks a new schema up and validates data against it', async () => {
    const type = 'com.example.user.created';
    expect((await publish(event('s-1', { type, data: { email: 42 } }), adminToken)).status).toBe(202);
    const put = await admin('PUT', `/v1/schemas/${type}`, {
      type: 'object',
      required: ['email'],
      properties: { email: { type: 'string', format: 'email' } },
    });
    expect(put.status).toBe(200);
    const rejected = await waitFor(
      async () => {
        const res = await publish(event(`s-2-${Date.now()}`, { type, data: { email: 42 } }), adminToken);
        return res.status === 400 ? res : undefined;
      },
      { timeoutMs: 20_000, message: 'schema not picked up' },
    );
    expect(rejected.body).toMatchObject({
      code: 'FUZE_INVALID_DATA',
      errors: [{ pointer: 'data.email', message: 'must be string' }],
    });
    expect((await publish(event('s-3', { type, data: { email: 'a@b.co' } }), adminToken)).status).toBe(202);
    const ids = (await readStream(fx.nc, fx.eventsStream)).map((m) => m.json<{ id: string }>().id);
    expect(ids).toEqual(expect.arrayContaining(['s-1', 's-3']));
  });

  test('a schema that does not compile is refused', async () => {
    const res = await admin('PUT', '/v1/schemas/com.example.bad', {
      type: 'object',
      properties: { a: { type: 'nonsense' } },
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'FUZE_SCHEMA_INVALID' } });
  });

  test('a catastrophic-backtracking pattern runs in linear time: the event is answered, the process stays live', async () => {
    const type = 'com.example.redos';
    const put = await admin('PUT', `/v1/schemas/${type}`, {
      type: 'object',
      properties: { name: { type: 'string', pattern: '^(a+)+$' } },
    });
    expect(put.status).toBe(200);
    // With a backtracking RegExp this input takes minutes (2^34 paths) and freezes the event loop.
    const evil = `${'a'.repeat(34)}!`;
    const rejected = await waitFor(
      async () => {
        const res = await publish(event(`redos-${Date.now()}`, { type, data: { name: evil } }), adminToken);
        return res.status === 400 ? res : undefined;
      },
      { timeoutMs: 20_000, message: 'schema not picked up' },
    );
    expect(rejected.body).toMatchObject({ code: 'FUZE_INVALID_DATA', errors: [{ pointer: 'data.name' }] });
    expect((await publish(event('redos-ok', { type, data: { name: 'aaaa' } }), adminToken)).status).toBe(202);
    expect((await fetch(`${fx.gatewayUrl}/healthz`)).status).toBe(200);
  });

  test('a pattern RE2 cannot run (lookaround) is refused, saying why', async () => {
    const res = await admin('PUT', '/v1/schemas/com.example.lookahead', {
      type: 'string',
      pattern: '^(?=.*[0-9]).+$',
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'FUZE_SCHEMA_INVALID' } });
    expect(res.body.detail).toContain('lookaround');
  });

  test('DELETE /v1/schemas/:type removes a schema: its events are no longer checked; a second delete is 404', async () => {
    const type = 'com.example.removed';
    expect((await admin('PUT', `/v1/schemas/${type}`, { type: 'object', required: ['n'] })).status).toBe(200);
    await waitFor(
      async () => (await publish(event(`rm-${Date.now()}`, { type, data: {} }), adminToken)).status === 400,
      { timeoutMs: 20_000, message: 'schema not picked up' },
    );
    expect((await admin('DELETE', `/v1/schemas/${type}`)).status).toBe(204);
    expect((await admin('GET', '/v1/schemas')).body.items.map((i: Json) => i.type)).not.toContain(type);
    await waitFor(
      async () => (await publish(event(`rm2-${Date.now()}`, { type, data: {} }), adminToken)).status === 202,
      { timeoutMs: 20_000, message: 'schema removal not picked up' },
    );
    expect(await admin('DELETE', `/v1/schemas/${type}`)).toMatchObject({
      status: 404,
      body: { code: 'FUZE_NOT_FOUND' },
    });
  });

  test('OpenAPI document is served at /docs/json', async () => {
    const res = await fetch(`${fx.adminUrl}/docs/json`);
    const doc = (await res.json()) as Json;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/schemas/{type}', '/v1/keys']));
  });
});
