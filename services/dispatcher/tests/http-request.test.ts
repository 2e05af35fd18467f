import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryEnvelope } from '@fuze/core';
import type { HttpTargetSpec } from '@fuze/rules';
import { describe, expect, test } from 'vitest';
import { buildHttpRequest, percentEncodeHeaderValue } from '../src/http/http-request.js';
import { isRetryableStatus } from '../src/http/http-response.js';
import { parseRetryAfter } from '../src/http/retry-after.js';
import { signWebhook, webhookSigningKey } from '../src/http/webhook-signature.js';
import { environmentSecretStore, secretVariable } from '../src/secrets.js';

describe('Standard Webhooks signature', () => {
  test('reproduces the specification test vector', () => {
    const key = webhookSigningKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const body = new TextEncoder().encode('{"test": 2432232314}');
    expect(signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  test('a secret without the whsec_ prefix is used as UTF-8 bytes', () => {
    expect(webhookSigningKey('plain secret').toString()).toBe('plain secret');
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  test('delay-seconds and HTTP dates; nothing for absent or unreadable values', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  test('retryable statuses: 408, 429 and 5xx', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([301, 400, 401, 403, 404, 409, 410, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe('buildHttpRequest', () => {
  const spec: HttpTargetSpec = {
    kind: 'http',
    name: 'hook',
    input: 'whole',
    retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 1, maxDelayMs: 1, maxAgeMs: 60_000 },
    http: {
      url: 'http://h/x',
      method: 'POST',
      mode: 'binary',
      headers: { 'X-Api-Version': '2' },
      timeoutMs: 1_000,
    },
  };
  const whole = (event: Record<string, unknown>): DeliveryEnvelope => {
    const { data: _d, data_base64: _b, ...attributes } = event;
    return {
      attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
      body: new TextEncoder().encode(JSON.stringify(event)),
      contentType: 'application/cloudevents+json',
      bus: 'default',
      rule: 'r',
      target: 'hook',
      acceptedAt: 1,
    };
  };
  const base = { specversion: '1.0', id: '1', source: '/s', type: 't' };

  test('binary mode unwraps data_base64 with its declared content type', () => {
    const request = buildHttpRequest(
      spec,
      whole({
        ...base,
        datacontenttype: 'application/octet-stream',
        data_base64: Buffer.from([1, 2, 3]).toString('base64'),
      }),
      undefined,
    );
    expect([...request.body]).toEqual([1, 2, 3]);
    expect(request.headers['content-type']).toBe('application/octet-stream');
    expect(request.headers['x-api-version']).toBe('2');
    expect(request.headers['ce-datacontenttype']).toBeUndefined();
  });

  test('binary mode sends text data as is, and no body for an event without data', () => {
    const text = buildHttpRequest(
      spec,
      whole({ ...base, datacontenttype: 'text/plain', data: 'hi there' }),
      undefined,
    );
    expect(new TextDecoder().decode(text.body)).toBe('hi there');
    const empty = buildHttpRequest(spec, whole(base), undefined);
    expect(empty.body.length).toBe(0);
    expect(empty.headers['content-type']).toBeUndefined();
  });

  test('a transformed body goes out as is, with its content type', () => {
    const envelope: DeliveryEnvelope = {
      ...whole(base),
      body: new TextEncoder().encode('{"order":1}'),
      contentType: 'application/json',
    };
    const request = buildHttpRequest(spec, envelope, { key: Buffer.from('k'), timestampSeconds: 1 });
    expect(new TextDecoder().decode(request.body)).toBe('{"order":1}');
    expect(request.headers['ce-id']).toBe('1');
    expect(request.headers['webhook-signature']).toMatch(/^v1,/);
  });

  test('header values are percent-encoded as the CloudEvents HTTP binding says', () => {
    expect(percentEncodeHeaderValue('a b"c%d€')).toBe('a%20b%22c%25d%E2%82%AC');
    expect(percentEncodeHeaderValue('/orders/1?x=y')).toBe('/orders/1?x=y');
  });
});

describe('secrets', () => {
  test('the environment first, then FUZE_SECRETS_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fuze-secrets-'));
    try {
      await writeFile(join(dir, 'from-file'), 'file-value\n');
      const store = environmentSecretStore({ FUZE_SECRET_FROM_ENV: 'env-value', FUZE_SECRETS_DIR: dir });
      expect(secretVariable('billing-signing-key')).toBe('FUZE_SECRET_BILLING_SIGNING_KEY');
      expect(await store.get('from-env')).toBe('env-value');
      expect(await store.get('from-file')).toBe('file-value');
      expect(await store.get('missing')).toBeUndefined();
      expect(await store.get('../etc/passwd')).toBeUndefined();
      expect(store.describe('missing')).toContain('FUZE_SECRET_MISSING');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
