import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlSubject } from '@fuze/core';
import {
  createTestDatabase,
  fuzeBinary,
  type InProcessFuze,
  makeTempDir,
  type NatsServerHandle,
  removeTempDir,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminModule } from '../src/index.js';

let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let dir: string;

const rule = (
  name: string,
  extra = '',
  target = 'billing',
  url = 'http://billing:3000/events',
) => `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: ${name} }
spec:
  pattern: { type: [com.shop.${name}] }
  targets:
    - name: ${target}
      http: { url: "${url}" }${extra}
`;

// biome-ignore lint/suspicious/noExplicitAny: test helper reading arbitrary JSON answers
async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${fuze.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

const apply = (
  files: Array<{ path: string; content: string }>,
  options: { prune?: boolean; dryRun?: boolean } = {},
) => admin('POST', '/v1/apply', { files, ...options });

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  fuze = await startInProcessFuze({
    modules: [adminModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url },
  });
  nc = await connect({ servers: nats.url });
  dir = await makeTempDir('fuze-rules-');
});
afterAll(async () => {
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await removeTempDir(dir);
});

describe('apply', () => {
  test('creates, then reports unchanged, then changes; each change bumps the bus revision and is announced', async () => {
    const notices: unknown[] = [];
    const sub = nc.subscribe(controlSubject('FUZE', 'rules'), {
      callback: (_e, m) => {
        notices.push(m.json());
      },
    });
    const created = await apply([{ path: 'a.yaml', content: `${rule('placed')}---\n${rule('paid')}` }]);
    expect(created.body).toMatchObject({
      created: [
        { bus: 'default', name: 'placed' },
        { bus: 'default', name: 'paid' },
      ],
      revisions: { default: 1 },
    });
    const again = await apply([{ path: 'a.yaml', content: `${rule('placed')}---\n${rule('paid')}` }]);
    expect(again.body).toMatchObject({
      created: [],
      changed: [],
      unchanged: [{ name: 'placed' }, { name: 'paid' }],
      revisions: {},
    });
    const changed = await apply([
      {
        path: 'a.yaml',
        content: rule('paid').replace('[com.shop.paid]', '[com.shop.paid, com.shop.settled]'),
      },
    ]);
    expect(changed.body).toMatchObject({ changed: [{ name: 'paid' }], revisions: { default: 2 } });
    await nc.flush();
    expect(notices).toEqual([{ buses: { default: 1 } }, { buses: { default: 2 } }]);
    sub.unsubscribe();
  });

  test('an apply over the admin API 1 MiB limit -> 413 FUZE_REQUEST_TOO_LARGE, not an event code', async () => {
    const res = await apply([{ path: 'bulk.yaml', content: `# ${'x'.repeat(1_200_000)}\n${rule('bulk')}` }]);
    expect(res).toMatchObject({ status: 413, body: { code: 'FUZE_REQUEST_TOO_LARGE', status: 413 } });
  });

  test('one invalid document: every problem reported with file:line:column, nothing applied', async () => {
    const bad = `${rule('refunded')}---
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: broken }
spec:
  pattern: { type: [{ prefx: com. }] }
  targets:
    - name: x
      http: { url: "http://x" }
      retry: { maxDelay: soon }
`;
    const res = await apply([{ path: 'rules/bad.yaml', content: bad }]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_RULE');
    const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers.some((p: string) => /^rules\/bad\.yaml:1[0-9]:\d+ spec\.pattern/.test(p))).toBe(true);
    expect(
      pointers.some((p: string) =>
        /^rules\/bad\.yaml:1[0-9]:\d+ spec\.targets\[0\]\.retry\.maxDelay/.test(p),
      ),
    ).toBe(true);
    expect((await admin('GET', '/v1/rules')).body.items.map((r: { name: string }) => r.name)).not.toContain(
      'refunded',
    );
  });

  test('a target name means one definition everywhere', async () => {
    const res = await apply([
      { path: 'c.yaml', content: rule('shipped', '', 'billing', 'http://elsewhere/hook') },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(
      /target "billing" is defined differently in stored rule default\/(placed|paid)/,
    );
  });

  test('flow control: the dry run shows the limits a target gets and had; rules of one target must agree on them', async () => {
    const limits = `
      rateLimit: { perSecond: 50, burst: 100 }
      maxConcurrency: 8
      circuitBreaker: { failures: 20, window: 30s, openFor: 60s }`;
    const files = [
      { path: 'r.yaml', content: rule('renew-due', limits, 'renewer', 'http://renewer:3000/renew') },
      { path: 's.yaml', content: rule('renew-forced', limits, 'renewer', 'http://renewer:3000/renew') },
    ];
    const dry = await apply(files, { dryRun: true });
    expect(dry.status).toBe(200);
    const set = {
      rateLimit: { perSecond: 50, burst: 100 },
      maxConcurrency: 8,
      circuitBreaker: { failures: 20, window: '30s', openFor: '1m' },
    };
    expect(dry.body.flowControl).toEqual([{ target: 'renewer', before: null, after: set }]);
    expect((await admin('GET', '/v1/rules/default/renew-due')).status).toBe(404);
    expect((await apply(files)).body.flowControl).toEqual([{ target: 'renewer', before: null, after: set }]);
    expect((await apply(files)).body.flowControl).toEqual([]);

    // One rule of the target with other limits: refused, naming the rule that disagrees.
    const other = limits.replace('perSecond: 50', 'perSecond: 10');
    const refused = await apply([
      { path: 's.yaml', content: rule('renew-forced', other, 'renewer', 'http://renewer:3000/renew') },
    ]);
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain(
      'target "renewer" is defined differently in stored rule default/renew-due',
    );
    expect(refused.body.detail).toContain('flow control (rateLimit, maxConcurrency, circuitBreaker)');

    // Both rules change together: the dry run says from what to what.
    const changed = await apply(
      files.map((f) => ({ ...f, content: f.content.replace('perSecond: 50', 'perSecond: 10') })),
      { dryRun: true },
    );
    expect(changed.body.flowControl).toEqual([
      { target: 'renewer', before: set, after: { ...set, rateLimit: { perSecond: 10, burst: 100 } } },
    ]);
    // Deleting the target's rules removes its limits.
    for (const name of ['renew-due', 'renew-forced'])
      expect((await admin('DELETE', `/v1/rules/default/${name}`)).status).toBe(204);
  });

  test('dry run reports without changing; prune deletes what the files no longer declare', async () => {
    const dry = await apply([{ path: 'a.yaml', content: rule('placed') }], { prune: true, dryRun: true });
    expect(dry.body).toMatchObject({ dryRun: true, deleted: [{ name: 'paid' }], revisions: {} });
    expect((await admin('GET', '/v1/rules/default/paid')).status).toBe(200);
    const pruned = await apply([{ path: 'a.yaml', content: rule('placed') }], { prune: true });
    expect(pruned.body).toMatchObject({ deleted: [{ name: 'paid' }] });
    expect((await admin('GET', '/v1/rules/default/paid')).status).toBe(404);
  });

  test('a target ordered by another key than its bus orderingKey applies, with a warning naming both', async () => {
    const bus = (key: string) => `apiVersion: fuze.dev/v1
kind: Bus
metadata: { name: shipments }
spec: { orderingKey: ${key} }
`;
    const shipped = (partitionKey: string) => `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: shipped, bus: shipments }
spec:
  pattern: { type: [com.shop.shipped] }
  targets:
    - name: tracker
      http: { url: "http://tracker:3000/events" }
      ordering: { partitionKey: "${partitionKey}" }
`;
    const mismatched = await apply([
      { path: 'bus.yaml', content: bus('$.data.orderId') },
      { path: 'rules.yaml', content: shipped('$.data.parcelId') },
    ]);
    expect(mismatched.status).toBe(200);
    expect(mismatched.body.created).toEqual([{ bus: 'shipments', name: 'shipped' }]);
    expect(mismatched.body.warnings).toEqual([
      expect.stringMatching(
        /^shipments\/shipped: target tracker orders by \$\.data\.parcelId but bus shipments routes by \$\.data\.orderId/,
      ),
    ]);
    // The stored Bus document counts when the files hold only the rule; agreeing keys warn nothing.
    const agreeing = await apply([{ path: 'rules.yaml', content: shipped('$.data.orderId') }]);
    expect(agreeing.body).toMatchObject({ changed: [{ name: 'shipped' }], warnings: [] });
    const again = await apply([{ path: 'rules.yaml', content: shipped('$.data.parcelId') }]);
    expect(again.body.warnings).toHaveLength(1);
  });

  test('PUT and DELETE one rule as JSON', async () => {
    const doc = {
      apiVersion: 'fuze.dev/v1',
      kind: 'Rule',
      metadata: { name: 'json-rule', bus: 'payments' },
      spec: { pattern: { source: [{ prefix: '/pay' }] }, targets: [{ name: 'ledger', consumer: {} }] },
    };
    expect((await admin('PUT', '/v1/rules/payments/json-rule', doc)).body.created).toEqual([
      { bus: 'payments', name: 'json-rule' },
    ]);
    expect((await admin('PUT', '/v1/rules/payments/other-name', doc)).status).toBe(400);
    expect((await admin('GET', '/v1/rules?bus=payments')).body.items).toHaveLength(1);
    expect((await admin('DELETE', '/v1/rules/payments/json-rule')).status).toBe(204);
    expect((await admin('DELETE', '/v1/rules/payments/json-rule')).status).toBe(404);
  });
});

const event = { specversion: '1.0', id: '1', source: '/shop', type: 'com.shop.placed', data: { total: 42 } };

describe('testing patterns and rules', () => {
  test('POST /v1/patterns/test answers matched, or why not; 400 for an invalid pattern naming the path', async () => {
    expect(
      (await admin('POST', '/v1/patterns/test', { pattern: { type: ['com.shop.placed'] }, event })).body,
    ).toEqual({ matched: true });
    const miss = await admin('POST', '/v1/patterns/test', {
      pattern: { data: { total: [{ numeric: ['>=', 100] }] } },
      event,
    });
    expect(miss.body).toMatchObject({ matched: false, path: 'data.total' });
    const invalid = await admin('POST', '/v1/patterns/test', {
      pattern: { data: { total: [{ numeric: ['>=', 'x'] }] } },
      event,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('FUZE_INVALID_PATTERN');
    expect(invalid.body.detail).toMatch(/data\.total/);
  });

  test('POST /v1/rules/test lists who receives the event and explains the rest', async () => {
    const res = await admin('POST', '/v1/rules/test', { event });
    expect(res.body.matched).toEqual([{ rule: 'placed', targets: ['billing'] }]);
    const res2 = await admin('POST', '/v1/rules/test', { event: { ...event, type: 'com.shop.other' } });
    expect(res2.body.notMatched).toEqual([
      { rule: 'placed', enabled: true, path: 'type', reason: expect.any(String) },
    ]);
  });
});

describe('apply with kind: Schedule documents', () => {
  const schedule = (name: string, spec = 'rate: 1h', bus = 'default') => `apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: ${name}, bus: ${bus} }
spec:
  ${spec}
  event: { type: com.example.report.due, source: /reports, data: { report: ${name} } }
`;
  const timer = async (key: string) => (await admin('GET', `/v1/timers/${key}`)).body;

  test('creates rules and timers together, leaves unchanged ones alone, re-arms changed ones, prunes within the buses applied', async () => {
    const files = [
      {
        path: 'ops/reports.yaml',
        content: `${rule('report-due')}---
${schedule('hourly-report')}`,
      },
      { path: 'ops/other.yaml', content: schedule('other-bus-report', 'rate: 2h', 'ops') },
    ];
    const first = await apply(files);
    expect(first.status).toBe(200);
    expect(first.body.created).toContainEqual({ bus: 'default', name: 'report-due' });
    expect(first.body.schedules).toEqual({
      created: ['hourly-report', 'other-bus-report'],
      updated: [],
      unchanged: [],
      pruned: [],
    });
    const armed = await timer('hourly-report');
    expect(armed).toMatchObject({ origin: 'schedule', state: 'scheduled', generation: 1 });

    const again = await apply(files);
    expect(again.body.schedules.unchanged).toEqual(['hourly-report', 'other-bus-report']);
    expect((await timer('hourly-report')).nextFireAt).toBe(armed.nextFireAt);

    const changed = await apply(
      [
        {
          path: 'ops/reports.yaml',
          content: `${rule('report-due')}---
${schedule('hourly-report', 'rate: 30m')}`,
        },
      ],
      { prune: true },
    );
    // other-bus-report is on bus ops, which these files do not declare: prune leaves it.
    expect(changed.body.schedules).toEqual({
      created: [],
      updated: ['hourly-report'],
      unchanged: [],
      pruned: [],
    });
    expect(await timer('hourly-report')).toMatchObject({
      generation: 2,
      schedule: { kind: 'rate', rate: '30m' },
    });

    const pruned = await apply([{ path: 'ops/reports.yaml', content: rule('report-due') }], { prune: true });
    expect(pruned.body.schedules.pruned).toEqual(['hourly-report']);
    expect(await timer('hourly-report')).toMatchObject({ state: 'cancelled' });
    expect(await timer('other-bus-report')).toMatchObject({ state: 'scheduled' });
  });

  test('a dry run reports what the schedules would do and stores nothing', async () => {
    const dry = await apply([{ path: 'dry.yaml', content: schedule('dry-report') }], { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, schedules: { created: ['dry-report'] } });
    expect((await admin('GET', '/v1/timers/dry-report')).status).toBe(404);
  });

  test('a schedule that can never fire refuses the whole apply: the rules of the same files are not stored', async () => {
    const res = await apply([
      {
        path: 'atomic.yaml',
        content: `${rule('atomic-rule')}---
${schedule('never', 'cron: "0 0 31 2 *"')}`,
      },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_TIMER');
    expect((await admin('GET', '/v1/rules/default/atomic-rule')).status).toBe(404);
    expect((await admin('GET', '/v1/timers/never')).status).toBe(404);
  });

  test('a timer key declared twice is refused, naming both documents, and nothing is written', async () => {
    const twice = (name: string) => schedule(name).replace('spec:\n', 'spec:\n  key: same-key\n');
    const res = await apply([
      { path: 'rules/a.yaml', content: twice('a') },
      { path: 'rules/b.yaml', content: twice('b') },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('FUZE_INVALID_TIMER');
    expect(res.body.detail).toMatch(/rules\/b\.yaml:1.*rules\/a\.yaml:1/);
    expect((await admin('GET', '/v1/timers/same-key')).status).toBe(404);
  });
});

describe('fuze apply and fuze rules test (CLI)', { timeout: 120_000 }, () => {
  // Async on purpose: the admin API runs in this process, so a blocking spawnSync would deadlock.
  const cli = (args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [fuzeBinary(), ...args, '--admin-url', fuze.adminUrl],
        (err, stdout, stderr) => {
          resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  test('applies a directory recursively, prints the plan, explains an event', async () => {
    mkdirSync(join(dir, 'nested'), { recursive: true });
    writeFileSync(join(dir, 'one.yaml'), rule('placed'));
    writeFileSync(join(dir, 'nested', 'two.yml'), rule('cancelled'));
    const dry = await cli(['apply', '-f', dir, '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('default/cancelled would be created');
    expect(dry.stdout).toContain('(dry run: nothing was changed)');
    const real = await cli(['apply', '-f', dir]);
    expect(real.stdout).toContain('default/cancelled created');
    writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
    const tested = await cli(['rules', 'test', '-e', join(dir, 'event.json')]);
    expect(tested.stdout).toContain('MATCH    placed -> billing');
    expect(tested.stdout).toMatch(/no match cancelled: type: /);
  });

  test('the dry run prints the flow control a target would get', async () => {
    const limited = join(dir, 'limited');
    mkdirSync(limited, { recursive: true });
    writeFileSync(
      join(limited, 'renew.yaml'),
      rule(
        'renew-cli',
        `
      rateLimit: { perSecond: 50, burst: 100 }
      maxConcurrency: 8
      circuitBreaker: { failures: 20, window: 30s, openFor: 60s }`,
        'renewer-cli',
        'http://renewer:3000/renew',
      ),
    );
    const dry = await cli(['apply', '-f', limited, '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(
      'target renewer-cli flow control would be set to 50/s burst 100, max 8 in flight, breaker 20 in 30s, open 1m (was none)',
    );
  });

  test('kind: Schedule: the dry run shows the timer, the apply creates it, re-applying leaves it alone', async () => {
    const schedules = join(dir, 'schedules');
    mkdirSync(schedules, { recursive: true });
    writeFileSync(
      join(schedules, 'nightly.yaml'),
      `apiVersion: fuze.dev/v1
kind: Schedule
metadata: { name: nightly-cli-report }
spec:
  cron: "0 2 * * *"
  timezone: Europe/Paris
  event: { type: com.example.report.due, source: /reports }
`,
    );
    const dry = await cli(['apply', '-f', schedules, '--dry-run']);
    expect(dry.stdout).toContain('schedule nightly-cli-report would be created');
    expect((await admin('GET', '/v1/timers/nightly-cli-report')).status).toBe(404);
    const real = await cli(['apply', '-f', schedules]);
    expect(real.stdout).toContain('schedule nightly-cli-report created');
    expect((await admin('GET', '/v1/timers/nightly-cli-report')).body).toMatchObject({
      state: 'scheduled',
      schedule: { kind: 'cron', cron: '0 2 * * *', timezone: 'Europe/Paris' },
    });
    const again = await cli(['apply', '-f', schedules]);
    expect(again.stdout).toContain('1 schedule(s) unchanged (not re-armed)');
  });

  test('errors come out as file:line:column and exit 1', async () => {
    writeFileSync(join(dir, 'broken.yaml'), rule('oops', '\n      partitions: 3'));
    const res = await cli(['apply', '-f', join(dir, 'broken.yaml')]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/broken\.yaml:\d+:\d+/);
  });
});
