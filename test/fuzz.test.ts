import {
  createTestDatabase,
  makeTempDir,
  type NatsServerHandle,
  readStream,
  removeTempDir,
  type ServedFuze,
  seededRandom,
  serveFuze,
  startNatsServer,
  type TestDatabase,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';

/**
 * Generated bad input against a real `fuze serve` (every service, real NATS and Postgres):
 * CloudEvents in structured, binary and batch mode, rule documents, and admin requests, each a
 * valid request with a few parts replaced by odd values, or bytes cut and flipped. Every answer
 * must be 2xx, or 4xx with problem+json; none may hang; the process must stay up and healthy;
 * and exactly the events answered `accepted` must be in the events stream (nothing half-stored).
 * Requests over a second are counted and printed, not failed (a shared 2-core machine).
 */
const prefix = 'FZ';
const seed = Number(process.env['FUZE_FUZZ_SEED'] ?? 20261205);
const random = seededRandom(seed);
const hungAfterMs = 10_000;

let nats: NatsServerHandle;
let nc: NatsConnection;
let db: TestDatabase;
let dataDir: string;
let fuze: ServedFuze;
let gatewayUrl: string;
let adminUrl: string;
let opsUrl: string;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  db = await createTestDatabase();
  dataDir = await makeTempDir('fuze-fuzz-');
  fuze = await serveFuze({
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: db.url,
    FUZE_DATA_DIR: dataDir,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_HTTP_REQUEST_TIMEOUT: '3s',
  });
  ({ gatewayUrl, adminUrl, opsUrl } = fuze);
}, 180_000);

afterAll(async () => {
  await fuze?.stop();
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
  await db?.drop();
  if (dataDir) await removeTempDir(dataDir);
});

// ---- generators -------------------------------------------------------------------------------

const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number) => random() < p;

const oddStrings = [
  '',
  ' ',
  'x'.repeat(10_000),
  '\u0000',
  '\r\nX-Injected: 1',
  '../../etc/passwd',
  '%00%ff',
  '𝔉𝔲𝔷𝔢 ☃ \ud800',
  '<script>alert(1)</script>',
  "'; DROP TABLE rules; --",
  ['$', '{jndi:ldap://x}'].join(''), // a log4shell probe
  '{{7*7}}',
  '1970-13-45T25:61:61Z',
  '99999999999d',
  '-1s',
  'NaN',
  '__proto__',
  'a'.repeat(34) + '!',
];
const oddNumbers = [0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, 1e-320];

function oddValue(depth = 0): unknown {
  switch (Math.floor(random() * (depth > 2 ? 4 : 7))) {
    case 0:
      return pick(oddStrings);
    case 1:
      return pick(oddNumbers);
    case 2:
      return pick([null, true, false]);
    case 3:
      return `v${Math.floor(random() * 1000)}`;
    case 4:
      return Array.from({ length: Math.floor(random() * 4) }, () => oddValue(depth + 1));
    case 5: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--)
        object[pick([...oddStrings.slice(0, 12), 'type', 'id', 'numeric', 'prefix', 'exists'])] = oddValue(
          depth + 1,
        );
      if (chance(0.1))
        Object.defineProperty(object, '__proto__', { value: { polluted: true }, enumerable: true });
      return object;
    }
    default:
      return deeplyNested(pick([100, 5_000]));
  }
}

/**
 * A value nested `depth` objects deep. JSON.stringify cannot write 5,000 levels, so it stands in
 * as a token that `toJson` expands in the text.
 */
function deeplyNested(depth: number): unknown {
  return `@@deep-${depth}@@`;
}

function toJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/"@@deep-(\d+)@@"/g, (_, depth: string) => {
    const n = Number(depth);
    return `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  });
}

/** A copy of `value` with one to three members replaced by odd values or removed. */
function mutate(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = structuredClone(value);
  for (let i = 1 + Math.floor(random() * 3); i > 0; i--) {
    const key = pick(keys);
    if (chance(0.25)) delete copy[key];
    else copy[key] = oddValue();
  }
  return copy;
}

/** JSON text cut short or with bytes flipped, or left whole. */
function damage(text: string): string {
  if (chance(0.6)) return text;
  if (chance(0.5)) return text.slice(0, Math.floor(random() * text.length));
  const chars = [...text];
  for (let i = 1 + Math.floor(random() * 3); i > 0; i--)
    chars[Math.floor(random() * chars.length)] = pick(['"', '{', ']', '\\', '\u0000', ',', 'é']);
  return chars.join('');
}

const eventKeys = [
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
  'partitionkey',
  'deliverat',
  'delay',
  'traceparent',
  'Bad-Extension',
  'averyveryverylongextensionname',
];
let nextId = 0;
function validEvent(): Record<string, unknown> {
  nextId += 1;
  return {
    specversion: '1.0',
    id: `fz-${nextId}`,
    source: '/fuzz',
    type: 'com.fuzz.tick',
    partitionkey: `k${nextId % 7}`,
    data: { n: nextId },
  };
}

const ruleKeys = ['apiVersion', 'kind', 'metadata', 'spec'];
const specKeys = ['pattern', 'targets', 'bus', 'description', 'enabled'];
const targetKeys = ['name', 'http', 'consumer', 'nats', 'ordering', 'retry', 'input', 'secretRef', 'timeout'];
function validRule(n: number): Record<string, unknown> {
  return {
    apiVersion: 'fuze.dev/v1',
    kind: 'Rule',
    metadata: { name: `fuzz-${n}` },
    spec: {
      pattern: { type: ['com.fuzz.tick'], data: { n: [{ numeric: ['>', 0] }] } },
      targets: [
        {
          name: `sink-${n}`,
          http: { url: 'http://127.0.0.1:9/sink' },
          ordering: { partitionKey: '$.data.n', partitions: 4 },
          input: { paths: { n: '$.data.n' }, template: '{"n": <n>}' },
        },
      ],
    },
  };
}

/** A rule document with odd parts at any level, as YAML text (sometimes damaged). */
function ruleDocument(n: number): string {
  let rule = validRule(n);
  const level = Math.floor(random() * 4);
  if (level === 0) rule = mutate(rule, ruleKeys);
  else if (level === 1) rule.spec = mutate(rule.spec as Record<string, unknown>, specKeys);
  else if (level === 2) {
    const spec = rule.spec as { targets: Array<Record<string, unknown>> };
    spec.targets = [mutate(spec.targets[0]!, targetKeys)];
  } else {
    const spec = rule.spec as { pattern: Record<string, unknown> };
    spec.pattern = mutate(spec.pattern, ['type', 'source', 'data', 'id', 'time', '$or', 'subject']);
  }
  const text = toJson(rule); // JSON is YAML
  if (chance(0.1))
    return `a: &a [${'x,'.repeat(50)}]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b]`;
  if (chance(0.1)) return `${'- '.repeat(2_000)}x`;
  return damage(text);
}

const adminRequests: Array<{ method: string; path: () => string; body: () => unknown }> = [
  {
    method: 'PUT',
    path: () => `/v1/timers/${pathPart(pick(['t-1', 'a:b', ...oddStrings]))}`,
    body: timerBody,
  },
  {
    method: 'GET',
    path: () => `/v1/timers?${query(['prefix', 'state', 'dueFrom', 'dueTo', 'limit', 'cursor'])}`,
    body: () => undefined,
  },
  {
    method: 'DELETE',
    path: () => `/v1/timers/${pathPart(pick(oddStrings) || 'x')}`,
    body: () => undefined,
  },
  {
    method: 'GET',
    path: () =>
      `/v1/dlq?${query(['target', 'rule', 'bus', 'from', 'to', 'error', 'state', 'limit', 'cursor'])}`,
    body: () => undefined,
  },
  {
    method: 'POST',
    path: () => '/v1/dlq/replay',
    body: () =>
      mutate({ filter: { target: 'sink-1' }, ratePerSecond: 10, dryRun: true }, [
        'filter',
        'ids',
        'target',
        'ratePerSecond',
        'dryRun',
        'force',
      ]),
  },
  {
    method: 'GET',
    path: () => `/v1/replays/${pathPart(pick(oddStrings) || 'x')}`,
    body: () => undefined,
  },
  {
    method: 'POST',
    path: () => '/v1/keys',
    body: () => mutate({ name: 'fuzz', scopes: ['events:write'] }, ['name', 'scopes', 'expiresAt']),
  },
  {
    method: 'PUT',
    path: () => `/v1/schemas/${pathPart(pick(['com.fuzz.tick', ...oddStrings]) || 'x')}`,
    body: () =>
      mutate({ type: 'object', properties: { n: { type: 'number', pattern: '^(a+)+$' } } }, [
        'type',
        'properties',
        'pattern',
        '$ref',
        'required',
      ]),
  },
  { method: 'GET', path: () => `/v1/rules?${query(['bus', 'limit'])}`, body: () => undefined },
  {
    method: 'POST',
    path: () => '/v1/patterns/test',
    body: () =>
      mutate({ event: validEvent(), pattern: { source: [{ prefix: '/f' }] } }, ['event', 'pattern']),
  },
  {
    method: 'POST',
    path: () => '/v1/rules/test',
    body: () =>
      mutate({ event: validEvent(), pattern: { type: ['com.fuzz.tick'] } }, [
        'event',
        'pattern',
        'bus',
        'rule',
      ]),
  },
];

/** A path segment for `text` (a lone surrogate cannot be percent-encoded: sent as its replacement). */
function pathPart(text: string): string {
  // A lone surrogate cannot be percent-encoded: it is sent as U+FFFD.
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/gu, '\ufffd'));
}

function timerBody(): unknown {
  return mutate({ event: { type: 'com.fuzz.tick', source: '/fuzz', data: {} }, at: '2099-01-01T00:00:00Z' }, [
    'event',
    'at',
    'delay',
    'cron',
    'rate',
    'timezone',
    'misfire',
    'misfireGrace',
    'bus',
  ]);
}

function query(names: readonly string[]): string {
  const params = new URLSearchParams();
  for (let i = Math.floor(random() * 3); i > 0; i--) params.set(pick(names), String(oddValue(3)));
  return params.toString();
}

// ---- the run ----------------------------------------------------------------------------------

interface Tally {
  inputs: number;
  ok: number;
  clientErrors: number;
  serverErrors: Array<{ what: string; status: number; body: string }>;
  notProblemJson: Array<{ what: string; status: number; contentType: string }>;
  hung: string[];
  slow: number;
}

test('generated bad input: every answer 2xx or 4xx problem+json, nothing hangs, the process stays healthy, nothing half-stored', {
  timeout: 600_000,
}, async () => {
  const tally: Tally = {
    inputs: 0,
    ok: 0,
    clientErrors: 0,
    serverErrors: [],
    notProblemJson: [],
    hung: [],
    slow: 0,
  };
  const accepted = new Set<string>();
  const refused = new Set<string>();

  async function send(
    what: string,
    url: string,
    init: RequestInit,
  ): Promise<{ status: number; body: string }> {
    tally.inputs += 1;
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(hungAfterMs) });
    } catch (err) {
      tally.hung.push(`${what}: ${(err as Error).name}`);
      return { status: 0, body: '' };
    }
    const body = await res.text();
    if (Date.now() - started > 1_000) tally.slow += 1;
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status >= 500) tally.serverErrors.push({ what, status: res.status, body: body.slice(0, 300) });
    else if (res.status >= 400) {
      tally.clientErrors += 1;
      if (!contentType.startsWith('application/problem+json'))
        tally.notProblemJson.push({ what, status: res.status, contentType });
    } else tally.ok += 1;
    return { status: res.status, body };
  }

  const idOf = (event: unknown) =>
    event && typeof event === 'object' && typeof (event as { id?: unknown }).id === 'string'
      ? (event as { id: string }).id
      : undefined;

  // Structured mode.
  for (let i = 0; i < 400; i++) {
    const event = chance(0.2) ? validEvent() : mutate(validEvent(), eventKeys);
    const text = damage(toJson(event));
    const { status } = await send('structured', `${gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': pick([
          'application/cloudevents+json',
          'application/cloudevents+json; charset=utf-8',
          'application/json',
          'text/plain',
        ]),
      },
      body: text,
    });
    const id = text === toJson(event) ? idOf(event) : undefined;
    if (id && status === 202) accepted.add(id);
    else if (id && status >= 400 && status < 500) refused.add(id);
  }

  // Binary mode: ce-* headers with odd values (what fetch lets through), and odd bodies.
  for (let i = 0; i < 300; i++) {
    nextId += 1;
    const headers: Record<string, string> = {
      'ce-specversion': '1.0',
      'ce-id': `fzb-${nextId}`,
      'ce-source': '/fuzz',
      'ce-type': 'com.fuzz.tick',
      'content-type': 'application/json',
    };
    for (let j = 1 + Math.floor(random() * 3); j > 0; j--) {
      const name = pick([
        'ce-specversion',
        'ce-id',
        'ce-source',
        'ce-type',
        'ce-time',
        'ce-partitionkey',
        'ce-delay',
        'ce-deliverat',
        'ce-dataschema',
        'ce-bad_ext',
        'content-type',
        'ce-traceparent',
      ]);
      const value = String(oddValue(3)).replace(/[\r\n]/g, '');
      if (chance(0.2)) delete headers[name];
      else
        headers[name] = [...value]
          .filter((c) => c.charCodeAt(0) > 0 && c.charCodeAt(0) < 256)
          .join('')
          .slice(0, 4_000);
    }
    const body = damage(toJson(oddValue()));
    const { status } = await send('binary', `${gatewayUrl}/v1/events`, { method: 'POST', headers, body });
    const id = headers['ce-id'];
    if (id && status === 202) accepted.add(id);
  }

  // Batch mode: valid and odd entries together; each entry answered on its own.
  for (let i = 0; i < 100; i++) {
    const entries = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
      chance(0.5) ? validEvent() : mutate(validEvent(), eventKeys),
    );
    const whole = chance(0.1) ? oddValue() : entries;
    const { status, body } = await send('batch', `${gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: damage(toJson(whole)),
    });
    if (status === 202 || status === 207) {
      const results = (JSON.parse(body) as { results: Array<{ id?: string; status: string }> }).results;
      for (const r of results) if (r.id && r.status === 'accepted') accepted.add(r.id);
    }
  }

  // Rule documents.
  const appliedRules = new Set<string>();
  for (let i = 0; i < 150; i++) {
    const content = ruleDocument(i);
    const { status } = await send('rules', `${adminUrl}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files: [{ path: `fuzz-${i}.yaml`, content }] }),
    });
    if (status === 200) appliedRules.add(`fuzz-${i}`);
  }

  // Admin requests.
  for (let i = 0; i < 400; i++) {
    const request = pick(adminRequests);
    const body = request.body();
    await send(`admin ${request.method}`, `${adminUrl}${request.path()}`, {
      method: request.method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: damage(toJson(body)) }),
    });
  }

  const healthz = await fetch(`${opsUrl}/healthz`);
  const readyz = await fetch(`${opsUrl}/readyz`);
  const stored = new Set(
    (await readStream(nc, `${prefix}_EVENTS`)).map((m) => {
      try {
        return m.json<{ id: string }>().id;
      } catch {
        return '';
      }
    }),
  );
  const rules = (await (await fetch(`${adminUrl}/v1/rules`)).json()) as { items: Array<{ name: string }> };

  console.info(
    `fuzz (seed ${seed}): ${tally.inputs} inputs, ${tally.ok} 2xx, ${tally.clientErrors} 4xx, ` +
      `${tally.serverErrors.length} 5xx, ${tally.hung.length} hung, ${tally.slow} over 1 s, ` +
      `${fuze.process.child.exitCode === null ? 0 : 1} crashes; ${accepted.size} events accepted, ${appliedRules.size} rule documents applied`,
  );
  if (tally.serverErrors.length > 0) {
    const unhandled = fuze.process
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":50'))
      .slice(0, 10);
    console.error(`server errors logged by fuze:\n${unhandled.join('\n')}`);
  }
  expect(tally.serverErrors).toEqual([]);
  expect(tally.notProblemJson).toEqual([]);
  expect(tally.hung).toEqual([]);
  expect(fuze.process.child.exitCode).toBeNull();
  expect(healthz.status).toBe(200);
  expect(readyz.status).toBe(200);
  // Nothing half-stored: exactly the accepted events are in the stream, and no refused one.
  for (const id of accepted) expect(stored.has(id), `accepted ${id} is stored`).toBe(true);
  for (const id of refused) expect(stored.has(id), `refused ${id} is not stored`).toBe(false);
  expect(
    rules.items
      .map((r) => r.name)
      .filter((n) => n.startsWith('fuzz-'))
      .sort(),
  ).toEqual([...appliedRules].sort());
});
