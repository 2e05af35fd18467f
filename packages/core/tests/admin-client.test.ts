import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminClient, FuzeError } from '../src/index.js';

// A real HTTP server standing in for the admin API (and for a proxy in front of it): what the
// client sends, and how it reads every kind of answer.
let server: Server;
let baseUrl: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = answers[req.url ?? ''];
      if (!answer) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const problemType = 'application/problem+json';
const answers: Record<string, { status: number; type: string; body: string }> = {
  '/ok': { status: 201, type: 'application/json', body: '{"key":"k"}' },
  '/empty': { status: 204, type: 'text/plain', body: '' },
  '/invalid': {
    status: 400,
    type: problemType,
    body: JSON.stringify({
      code: 'FUZE_INVALID_TIMER',
      detail: 'the timer is invalid',
      errors: [{ pointer: 'body.cron', message: 'not a cron expression' }],
    }),
  },
  '/unknown-code': { status: 409, type: problemType, body: '{"code":"NOT_OURS","detail":"conflict"}' },
  '/proxy': { status: 502, type: 'text/html', body: '<html>bad gateway</html>' },
  '/forbidden': { status: 403, type: 'text/plain', body: '' },
};

describe('createAdminClient', () => {
  it('sends JSON with the token, and returns the status and parsed body', async () => {
    const client = createAdminClient({ adminUrl: `${baseUrl}/`, token: 't0ken', env: {} });
    expect(client.baseUrl).toBe(baseUrl);
    expect(await client.request('PUT', '/ok', { a: 1 })).toEqual({ status: 201, body: { key: 'k' } });
    const sent = seen.at(-1)!;
    expect(sent).toMatchObject({ method: 'PUT', url: '/ok', body: '{"a":1}' });
    expect(sent.headers.authorization).toBe('Bearer t0ken');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(await client.request('DELETE', '/empty')).toEqual({ status: 204, body: undefined });
    expect(seen.at(-1)!.headers['content-type']).toBeUndefined();
  });

  it('reads FUZE_ADMIN_URL and FUZE_ADMIN_TOKEN when no option is given', async () => {
    const client = createAdminClient({ env: { FUZE_ADMIN_URL: baseUrl, FUZE_ADMIN_TOKEN: 'from-env' } });
    await client.request('GET', '/ok');
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer from-env');
    expect(createAdminClient({ env: {} }).baseUrl).toBe('http://127.0.0.1:8081');
  });

  it('turns a problem answer into a FuzeError with its code, status and problems', async () => {
    const err = await createAdminClient({ adminUrl: baseUrl, env: {} })
      .request('PUT', '/invalid', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FuzeError);
    expect(err).toMatchObject({
      code: 'FUZE_INVALID_TIMER',
      message: 'the timer is invalid',
      details: { status: 400, problems: [{ pointer: 'body.cron', message: 'not a cron expression' }] },
    });
  });

  it('falls back to a code by status when the answer has none Fuze knows', async () => {
    const client = createAdminClient({ adminUrl: baseUrl, env: {} });
    await expect(client.request('GET', '/unknown-code')).rejects.toMatchObject({
      code: 'FUZE_INVALID_REQUEST',
      message: 'conflict',
      details: { status: 409 },
    });
    await expect(client.request('GET', '/forbidden')).rejects.toMatchObject({
      code: 'FUZE_FORBIDDEN',
      message: 'the admin API answered 403',
    });
    await expect(client.request('GET', '/proxy')).rejects.toMatchObject({
      code: 'FUZE_ADMIN_UNREACHABLE',
      message: 'the admin API answered 502: <html>bad gateway</html>',
    });
  });

  it('says where it looked when the admin API cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await createAdminClient({ adminUrl: `http://127.0.0.1:${port}`, env: {} })
      .request('GET', '/ok')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FUZE_ADMIN_UNREACHABLE', statusCode: 503 });
    expect((err as Error).message).toContain(
      `cannot reach the admin API at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect((err as Error).message).toContain('FUZE_ADMIN_URL');
  });
});
