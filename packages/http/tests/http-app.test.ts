import { connect } from 'node:net';
import { createLogger, FuzeError } from '@fuze/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearerAuth,
  createHttpApp,
  createTokenAuthenticator,
  hashSecret,
  healthRoutes,
  requireScope,
} from '../src/index.js';

// The HTTP house every Fuze service is built on, listening on a real port: problem+json for
// every kind of refusal, bearer tokens and scopes, health routes.
const adminToken = 'admin-token-0123456789';
const keySecret = 's'.repeat(24);
let app: FastifyInstance;
let url: string;
let ready = { nats: true, postgres: true };

beforeAll(async () => {
  app = createHttpApp({ logger: createLogger('silent'), bodyLimit: 1024 });
  app.register(bearerAuth, {
    authenticator: createTokenAuthenticator({
      adminToken,
      findApiKey: async (id) =>
        id === 'readerkey000'
          ? { id, secretHash: hashSecret(keySecret), scopes: ['rules:read'], revoked: false }
          : undefined,
    }),
  });
  app.register(healthRoutes, { readiness: async () => ready });
  app.register(async (routes) => {
    routes.get('/fuze-error', async () => {
      throw new FuzeError('FUZE_BUS_UNAVAILABLE', 'NATS is down; retry', {
        details: { retryAfterSeconds: 5, problems: [{ pointer: 'source', message: 'x' }] },
      });
    });
    routes.get('/bug', async () => {
      throw new Error('secret internals');
    });
    routes.post(
      '/typed',
      { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      async (request) => request.body,
    );
    routes.get('/items/:key', async (request) => request.params);
    routes.get('/rules', { preHandler: requireScope('rules:read') }, async (request) => ({
      principal: request.principal?.id,
    }));
    routes.post('/rules', { preHandler: requireScope('rules:write') }, async () => ({ ok: true }));
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(() => app.close());

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const json = (body: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});
const bearer = (token: string): RequestInit => ({ headers: { authorization: token } });

describe('problem+json', () => {
  it('answers a FuzeError with its code, the registry title, errors and Retry-After', async () => {
    const answer = await call('/fuze-error');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body).toEqual({
      type: 'https://fuze.dev/errors#FUZE_BUS_UNAVAILABLE',
      title: 'JetStream did not store the event in time: NATS is down or has no quorum',
      status: 503,
      detail: 'NATS is down; retry',
      code: 'FUZE_BUS_UNAVAILABLE',
      retryAfterSeconds: 5,
      errors: [{ pointer: 'source', message: 'x' }],
    });
  });

  it('does not leak an unexpected error', async () => {
    const answer = await call('/bug');
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('secret internals');
    expect(answer.body).toMatchObject({ title: 'Internal Server Error', detail: 'see the server log' });
  });

  it('names the route that does not exist', async () => {
    const answer = await call('/nowhere?x=1');
    expect(answer).toMatchObject({
      status: 404,
      body: { code: 'FUZE_NOT_FOUND', detail: 'no route GET /nowhere?x=1' },
    });
  });

  it('names each field a schema refuses, and malformed or oversized bodies', async () => {
    // fastify's ajv coerces scalars (1 becomes "1"), not objects.
    expect(await call('/typed', json('{"name":{"first":"n"}}'))).toMatchObject({
      status: 400,
      body: { code: 'FUZE_INVALID_REQUEST', errors: [{ pointer: 'body.name', message: 'must be string' }] },
    });
    expect(await call('/typed', json('{}'))).toMatchObject({
      body: { code: 'FUZE_INVALID_REQUEST', errors: [{ pointer: 'body.name' }] },
    });
    expect(await call('/typed', json('{"name":'))).toMatchObject({
      status: 400,
      body: { code: 'FUZE_MALFORMED_JSON' },
    });
    expect(await call('/typed', json(`{"name":"${'x'.repeat(2_000)}"}`))).toMatchObject({
      status: 413,
      body: { code: 'FUZE_REQUEST_TOO_LARGE' },
    });
    expect(await call('/typed', json('{"name":"n"}'))).toEqual(
      expect.objectContaining({ status: 200, body: { name: 'n' } }),
    );
  });

  it('refuses a path parameter over 1,024 characters, and takes one of 1,024', async () => {
    expect(await call(`/items/${'k'.repeat(1_025)}`)).toMatchObject({
      status: 414,
      body: { code: 'FUZE_URI_TOO_LONG' },
    });
    expect((await call(`/items/${'k'.repeat(1_024)}`)).status).toBe(200);
  });

  it("answers headers over Node's limit as problem+json and closes the connection", async () => {
    const { port } = new URL(url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toContain('Connection: close');
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'FUZE_HEADERS_TOO_LARGE',
    });
  });
});

describe('bearer tokens and scopes', () => {
  it('asks for a token, refuses an unknown one, and takes the admin token in any scheme case', async () => {
    expect(await call('/rules')).toMatchObject({ status: 401, body: { code: 'FUZE_UNAUTHORIZED' } });
    expect(await call('/rules', bearer('Bearer nope'))).toMatchObject({
      status: 401,
      body: { detail: expect.stringContaining('not valid') },
    });
    expect(await call('/rules', bearer(`bEaReR ${adminToken}`))).toMatchObject({
      status: 200,
      body: { principal: 'admin' },
    });
  });

  it('holds an API key to its scopes and names the one it lacks', async () => {
    const key = `Bearer fuze_readerkey000_${keySecret}`;
    expect(await call('/rules', bearer(key))).toMatchObject({
      status: 200,
      body: { principal: 'key:readerkey000' },
    });
    expect(await call('/rules', { method: 'POST', ...bearer(key) })).toMatchObject({
      status: 403,
      body: { code: 'FUZE_FORBIDDEN', requiredScope: 'rules:write' },
    });
  });
});

describe('health routes', () => {
  it('is live while a dependency is down, and ready only when all answer', async () => {
    expect(await call('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    ready = { nats: true, postgres: false };
    expect(await call('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('/readyz')).toMatchObject({
      status: 503,
      body: { status: 'not ready', checks: { nats: true, postgres: false } },
    });
  });
});
