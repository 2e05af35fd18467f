import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import {
  createTestDatabase,
  freePort,
  fuzeBinary,
  makeTempDir,
  type NatsServerHandle,
  readStream,
  removeTempDir,
  spawnFuze,
  startNatsServer,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

let nats: NatsServerHandle;
let nc: NatsConnection;
let dataDir: string;
const databases: Array<{ drop(): Promise<void> }> = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  dataDir = await makeTempDir('fuze-serve-');
});
afterAll(async () => {
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
  await removeTempDir(dataDir);
  for (const db of databases) await db.drop();
});

function runFuze(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [fuzeBinary(), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('fuze serve flags', () => {
  test('--verify-config reports every bad variable at once and exits 1', () => {
    const result = runFuze(['serve', '--verify-config'], {
      FUZE_GATEWAY_PORT: 'x',
      FUZE_LOG_LEVEL: 'chatty',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FUZE_GATEWAY_PORT="x" is invalid');
    expect(result.stderr).toContain('FUZE_LOG_LEVEL="chatty" is invalid');
  });

  test('--verify-config on a good configuration exits 0', () => {
    const result = runFuze(['serve', '--verify-config', '--services', 'gateway,router'], {});
    expect(result).toMatchObject({ code: 0, stdout: 'configuration is valid (services: gateway, router)\n' });
  });

  test('--print-config prints the resolved configuration with secrets redacted', () => {
    const result = runFuze(['serve', '--print-config'], {
      FUZE_ADMIN_TOKEN: 'super-secret-token-123',
      FUZE_DATABASE_URL: 'postgres://fuze:pw@db/fuze',
    });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed.auth.adminToken).toBe('***');
    expect(printed.database.url).toBe('postgres://fuze:***@db/fuze');
    expect(printed.services).toEqual(['gateway', 'router', 'dispatcher', 'scheduler', 'admin']);
    expect(result.stdout).not.toContain('super-secret');
  });

  test('an unknown service is refused by name', () => {
    const result = runFuze(['serve', '--services', 'gateway,routr', '--verify-config'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown service "routr"');
  });

  test('--help documents the command', () => {
    expect(runFuze(['serve', '--help'], {}).stdout).toContain('--services <list>');
  });

  test('--verify-config refuses a FUZE_* variable Fuze does not read, naming the nearest one', () => {
    const result = runFuze(['serve', '--verify-config'], {
      FUZE_GATEWAY_PROT: '8080',
      FUZE_SECRET_BILLING: 'x',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'FUZE_GATEWAY_PROT is not a Fuze variable: did you mean FUZE_GATEWAY_PORT?',
    );
    expect(result.stderr).not.toContain('FUZE_SECRET_BILLING'); // a secret for a target's secretRef
  });
});

describe('fuze serve start-up errors a newcomer can act on', { timeout: 120_000 }, () => {
  test('a port in use: one line on stderr naming the service and its variable, exit 1, before NATS is tried', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      // NATS at a closed port: had the port check come after connecting, this would fail on NATS.
      const fuze = spawnFuze(['serve'], {
        FUZE_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
        FUZE_DATA_DIR: dataDir,
        FUZE_GATEWAY_PORT: String(port),
        FUZE_ADMIN_PORT: String(await freePort()),
        FUZE_METRICS_PORT: String(await freePort()),
        FUZE_GATEWAY_PROT: '1',
      });
      expect(await fuze.exited).toBe(1);
      const stderr = fuze.stderr().trim().split('\n');
      expect(stderr).toEqual([
        `fuze: the gateway port ${port} on 127.0.0.1 is already in use (FUZE_GATEWAY_PORT): stop what listens there, or set FUZE_GATEWAY_PORT to a free port (FUZE_PORT_IN_USE)`,
      ]);
      // The typo'd variable is a warning in the log, which also keeps the error's details.
      expect(fuze.output()).toContain(
        'FUZE_GATEWAY_PROT is not a Fuze variable: did you mean FUZE_GATEWAY_PORT?',
      );
      expect(fuze.output()).toContain('"code":"FUZE_PORT_IN_USE"');
    } finally {
      taken.close();
    }
  });
});

/** Real Postgres (fast to open) unless `pglite`, the embedded default, is what the test is about. */
async function serveEnv(
  prefix: string,
  database: 'postgres' | 'pglite' = 'postgres',
): Promise<Record<string, string>> {
  const db = database === 'postgres' ? await createTestDatabase() : undefined;
  if (db) databases.push(db);
  return {
    ...(db ? { FUZE_DATABASE_URL: db.url } : {}),
    FUZE_NATS_URL: nats.url,
    FUZE_DATA_DIR: dataDir,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_GATEWAY_PORT: String(await freePort()),
    FUZE_ADMIN_PORT: String(await freePort()),
    FUZE_METRICS_PORT: String(await freePort()),
    FUZE_LOG_LEVEL: 'info',
  };
}

async function postEvent(port: string, id: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id,
        source: '/serve-test',
        type: 'com.example.load',
        data: { id },
      }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // connection refused or reset: the gateway has stopped accepting
  }
}

async function storedIds(stream: string): Promise<string[]> {
  return (await readStream(nc, stream)).map((m) => m.json<{ id: string }>().id);
}

// Whole processes on a 2-core machine: generous time limits, no timing assertions.
describe('fuze serve as a process', { timeout: 120_000 }, () => {
  test('SIGTERM under load: drains, exits 0, and every 202 is in the stream', async () => {
    const env = await serveEnv('DRAIN');
    const fuze = spawnFuze(['serve', '--services', 'gateway'], env);
    await fuze.waitForLog('fuze is running', 90_000);
    const accepted: string[] = [];
    let sent = 0;
    let stopped = false;
    const worker = async (w: number) => {
      for (let i = 0; !stopped && i < 5_000; i++) {
        const id = `drain-${w}-${i}`;
        sent++;
        const status = await postEvent(env.FUZE_GATEWAY_PORT!, id);
        if (status === 202) accepted.push(id);
        else if (status === 0 || status === 503) stopped = true;
      }
    };
    const workers = Array.from({ length: 20 }, (_, w) => worker(w));
    while (accepted.length < 300) await new Promise((r) => setTimeout(r, 10));
    fuze.child.kill('SIGTERM');
    await Promise.all(workers);
    expect(await fuze.exited).toBe(0);
    expect(fuze.output()).toContain('draining in-flight work');
    const stored = new Set(await storedIds('DRAIN_EVENTS'));
    const missing = accepted.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(accepted.length).toBeGreaterThanOrEqual(300);
    console.info(
      `drain: ${sent} sent, ${accepted.length} accepted before SIGTERM completed, ${stored.size} stored`,
    );
  });

  test('restarted over existing streams (and with a changed setting) it keeps every stored event', async () => {
    const env = await serveEnv('KEEP', 'pglite');
    const first = spawnFuze(['serve', '--services', 'gateway'], env);
    await first.waitForLog('fuze is running', 90_000);
    for (let i = 0; i < 100; i++) expect(await postEvent(env.FUZE_GATEWAY_PORT!, `keep-a-${i}`)).toBe(202);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = spawnFuze(['serve', '--services', 'gateway'], { ...env, FUZE_EVENTS_MAX_AGE: '3d' });
    await second.waitForLog('fuze is running', 90_000);
    expect(second.output()).toContain('updated stream settings to match the configuration');
    for (let i = 0; i < 100; i++) expect(await postEvent(env.FUZE_GATEWAY_PORT!, `keep-b-${i}`)).toBe(202);
    // the ops port answers health checks for every service in the process
    const ready = await fetch(`http://127.0.0.1:${env.FUZE_METRICS_PORT}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { nats: true, postgres: true } });
    // a retried event from before the restart is still recognised as a duplicate
    expect(await postEvent(env.FUZE_GATEWAY_PORT!, 'keep-a-7')).toBe(202);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    const ids = await storedIds('KEEP_EVENTS');
    expect(ids.length).toBe(200);
    expect(new Set(ids).size).toBe(200);
    const info = await (await jetstreamManager(nc)).streams.info('KEEP_EVENTS');
    expect(info.config.max_age).toBe(nanos(3 * 86_400_000));
  });

  test('--rules applies a directory at start; invalid rules stop start-up with file:line:column', async () => {
    const rulesDir = await makeTempDir('fuze-serve-rules-');
    try {
      writeFileSync(
        join(rulesDir, 'orders.yaml'),
        'apiVersion: fuze.dev/v1\nkind: Rule\nmetadata: { name: orders }\nspec:\n  pattern: { type: [com.shop.order.placed] }\n  targets:\n    - name: fulfilment\n      consumer: {}\n',
      );
      const env = await serveEnv('RULESDIR');
      const fuze = spawnFuze(['serve', '--services', 'admin,router', '--rules', rulesDir], env);
      await fuze.waitForLog('fuze is running', 90_000);
      expect(fuze.output()).toContain(`applied rules from ${rulesDir}`);
      const rules = (await (await fetch(`http://127.0.0.1:${env.FUZE_ADMIN_PORT}/v1/rules`)).json()) as {
        items: Array<{ name: string }>;
      };
      expect(rules.items.map((r) => r.name)).toEqual(['orders']);
      fuze.child.kill('SIGTERM');
      expect(await fuze.exited).toBe(0);

      writeFileSync(
        join(rulesDir, 'broken.yaml'),
        'apiVersion: fuze.dev/v1\nkind: Rule\nmetadata: { name: broken }\nspec:\n  pattern: { type: com.x }\n  targets: []\n',
      );
      const broken = spawnFuze(
        ['serve', '--services', 'admin', '--rules', rulesDir],
        await serveEnv('RULESBAD'),
      );
      expect(await broken.exited).toBe(1);
      expect(broken.output()).toMatch(/broken\.yaml:\d+:\d+/);
    } finally {
      await removeTempDir(rulesDir);
    }
  });

  test('a SIGKILLed fuze loses no event it acknowledged', async () => {
    const env = await serveEnv('CRASH');
    const fuze = spawnFuze(['serve', '--services', 'gateway'], env);
    await fuze.waitForLog('fuze is running', 90_000);
    const accepted: string[] = [];
    let dead = false;
    const worker = async (w: number) => {
      for (let i = 0; !dead; i++) {
        const id = `crash-${w}-${i}`;
        const status = await postEvent(env.FUZE_GATEWAY_PORT!, id);
        if (status === 202) accepted.push(id);
        if (status === 0) dead = true;
      }
    };
    const workers = Array.from({ length: 10 }, (_, w) => worker(w));
    while (accepted.length < 200) await new Promise((r) => setTimeout(r, 10));
    fuze.child.kill('SIGKILL');
    await Promise.all(workers);
    const stored = new Set(await storedIds('CRASH_EVENTS'));
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
  });
});
