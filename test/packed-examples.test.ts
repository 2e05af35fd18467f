import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type FuzeProcess,
  freePorts,
  makeTempDir,
  type NatsServerHandle,
  removeTempDir,
  spawnFuze,
  startNatsServer,
  waitFor,
} from './harness/index.js';
import { trackChild } from './harness/processes.js';

// Fuze as an application meets it: the SDK and the binary packed with `npm pack`, the binary
// installed globally from its tarball (only the npm registry behind it), `fuze serve` on embedded
// defaults (PGlite), and the three examples/ apps installed from the tarballs and run against it.
const repo = fileURLToPath(new URL('../', import.meta.url));
const packages = join(repo, '.packages');
const webhookSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let nats: NatsServerHandle;
let work: string;
let fuzeBin: string;
let fuze: FuzeProcess;
let urls: { gateway: string; admin: string };

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (npm, the installed fuze); never throws, the test reads the result. */
function run(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<RunResult>((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd ?? work,
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const npm = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  run('npm', [...args, '--no-audit', '--no-fund'], { cwd, env });
const fuzeCli = (args: string[]) => run(fuzeBin, [...args, '--admin-url', urls.admin]);

function expectOk(result: RunResult, what: string): void {
  if (result.code !== 0)
    throw new Error(
      `${what} failed (exit ${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`,
    );
}

/** Installs an example from the tarballs, in place: its package.json names ../../.packages/*.tgz. */
async function installExample(name: string): Promise<string> {
  const dir = join(repo, 'examples', name);
  expectOk(await npm(['install', '--no-package-lock'], dir), `npm install in examples/${name}`);
  return dir;
}

beforeAll(async () => {
  work = await makeTempDir('fuze-packed-');
  expectOk(await run('bash', [join(repo, 'scripts/pack-packages.sh'), packages], { cwd: repo }), 'packing');
  // A global install, into a prefix of its own so the machine's global packages stay as they are.
  const prefix = join(work, 'global');
  expectOk(
    await npm(['install', '-g', '--prefix', prefix, join(packages, 'fuze-cli.tgz')], work),
    'npm install -g',
  );
  fuzeBin = join(prefix, 'bin', 'fuze');
  nats = await startNatsServer();
  const [gateway, admin, metrics] = await freePorts(3);
  urls = { gateway: `http://127.0.0.1:${gateway}`, admin: `http://127.0.0.1:${admin}` };
  // No FUZE_DATABASE_URL: the embedded PGlite under FUZE_DATA_DIR, as on a laptop.
  fuze = spawnFuze(
    ['serve'],
    {
      FUZE_NATS_URL: nats.url,
      FUZE_DATA_DIR: join(work, 'data'),
      FUZE_GATEWAY_PORT: String(gateway),
      FUZE_ADMIN_PORT: String(admin),
      FUZE_METRICS_PORT: String(metrics),
      FUZE_SECRET_RECEIVER_SIGNING_KEY: webhookSecret,
    },
    { executable: fuzeBin, cwd: work },
  );
  await fuze.waitForLog('fuze is running', 180_000);
}, 600_000);

afterAll(async () => {
  if (fuze && fuze.child.exitCode === null) {
    fuze.child.kill('SIGTERM');
    await fuze.exited;
  }
  await nats?.[Symbol.asyncDispose]();
  if (work) await removeTempDir(work);
});

describe('packed packages', { timeout: 300_000 }, () => {
  test('the SDK installs into an empty app from the registry alone: no @fuze/* lookups, no server stack, at most 15 packages', async () => {
    const app = join(work, 'sdk-app');
    expectOk(await run('mkdir', ['-p', app]), 'mkdir');
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'sdk-app', private: true, type: 'module' }),
    );
    expectOk(await npm(['install', join(packages, 'fuze-sdk.tgz')], app), 'npm install of the SDK tarball');
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    const installed = Object.keys(lock.packages)
      .filter((path) => path.startsWith('node_modules/'))
      .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(installed.filter((name) => name.startsWith('@fuze/'))).toEqual(['@fuze/sdk']);
    for (const server of ['pino', 'prom-client', '@grpc/grpc-js', 'drizzle-orm', '@electric-sql/pglite'])
      expect(installed).not.toContain(server);
    expect(installed.filter((name) => name.startsWith('@opentelemetry/'))).toEqual(['@opentelemetry/api']);
    expect(installed.length).toBeLessThanOrEqual(15);
    writeFileSync(
      join(app, 'check.mjs'),
      "import { createPublisher, createConsumer, createTimersClient, FuzeError } from '@fuze/sdk';\n" +
        'console.log([createPublisher, createConsumer, createTimersClient, FuzeError].every((f) => typeof f === "function"));\n',
    );
    const imported = await run(process.execPath, ['check.mjs'], { cwd: app });
    expect(imported.stdout.trim()).toBe('true');
  });

  test('the globally installed fuze answers every command: help, apply, rules, timers, dlq', async () => {
    const help = await run(fuzeBin, ['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'apply', 'rules', 'timers', 'dlq'])
      expect((await run(fuzeBin, [command, '--help'])).code, `fuze ${command} --help`).toBe(0);
    expectOk(
      await fuzeCli(['apply', '-f', join(repo, 'examples/orders-service/rules'), '--dry-run']),
      'apply --dry-run',
    );
    expectOk(await fuzeCli(['rules', 'list']), 'rules list');
    expectOk(await fuzeCli(['timers', 'list']), 'timers list');
    expectOk(await fuzeCli(['dlq', 'list']), 'dlq list');
  });

  test('the globally installed fuze serves the web console, every file of it', async () => {
    const page = await fetch(`${urls.admin}/console/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2); // the script and the style sheet
    for (const asset of assets) expect((await fetch(`${urls.admin}${asset}`)).status, asset).toBe(200);
  });
});

describe('examples/, installed from the tarballs, against fuze serve', { timeout: 300_000 }, () => {
  test('orders-service (TypeScript): publishes orders and fulfils each customer in order', async () => {
    expectOk(await fuzeCli(['apply', '-f', join(repo, 'examples/orders-service/rules')]), 'apply');
    const dir = await installExample('orders-service');
    const started = await npm(['start'], dir, { FUZE_NATS_URL: nats.url, EXAMPLE_TIMEOUT_MS: '120000' });
    expectOk(started, 'npm start in examples/orders-service');
    expect(started.stdout).toContain('published 15 orders');
    expect(started.stdout).toContain("fulfilled 15 orders, each customer's in the order placed");
  });

  test('webhook-receiver: verifies the Standard Webhooks signature of each delivery, refuses a forged one', async () => {
    const [port] = await freePorts(1);
    const rules = join(work, 'webhook-rules.yaml');
    const yaml = readFileSync(join(repo, 'examples/webhook-receiver/rules/webhooks.yaml'), 'utf8');
    writeFileSync(rules, yaml.replace('http://127.0.0.1:3000/hooks', `http://127.0.0.1:${port}/hooks`));
    expectOk(await fuzeCli(['apply', '-f', rules]), 'apply');
    const dir = await installExample('webhook-receiver');
    const receiver = startProcess('npm', ['start'], dir, {
      PORT: String(port),
      WEBHOOK_SECRET: webhookSecret,
    });
    try {
      await waitFor(() => receiver.output().includes('"listening"'), {
        timeoutMs: 60_000,
        message: 'receiver up',
      });
      const event = new CloudEvent({
        id: `paid-${Date.now()}`,
        source: '/examples/shop',
        type: 'com.shop.order.paid',
        data: { orderId: 'o-77' },
      });
      const message = HTTP.structured(event);
      const accepted = await fetch(`${urls.gateway}/v1/events`, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body: message.body as string,
      });
      expect(accepted.status).toBe(202);
      const line = await waitFor(
        () =>
          receiver
            .output()
            .split('\n')
            .find((l) => l.includes('"verified"')),
        { timeoutMs: 60_000, message: 'a verified delivery' },
      );
      expect(JSON.parse(line)).toMatchObject({ type: 'com.shop.order.paid', orderId: 'o-77' });

      const forged = await fetch(`http://127.0.0.1:${port}/hooks`, {
        method: 'POST',
        headers: {
          'webhook-id': 'msg_forged',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,bm90IGEgc2lnbmF0dXJl',
        },
        body: JSON.stringify({ type: 'com.shop.order.paid', data: { orderId: 'forged' } }),
      });
      expect(forged.status).toBe(401);
      // The receiver's log line may reach us after its answer did.
      await waitFor(() => receiver.output().includes('"rejected":"msg_forged"'), {
        timeoutMs: 10_000,
        message: 'the receiver to log the forged request',
      });
    } finally {
      await receiver.stop();
    }
  });

  test('timefuze-job: the record fires, the handler renews it and re-arms the same record, three times', async () => {
    expectOk(await fuzeCli(['apply', '-f', join(repo, 'examples/timefuze-job/rules')]), 'apply');
    const dir = await installExample('timefuze-job');
    const started = await npm(['start'], dir, {
      FUZE_NATS_URL: nats.url,
      FUZE_ADMIN_URL: urls.admin,
      RENEWALS: '3',
      RENEW_EVERY: '1s',
      EXAMPLE_TIMEOUT_MS: '120000',
    });
    expectOk(started, 'npm start in examples/timefuze-job');
    const lines = started.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => 'renewed' in l).map((l) => l.serial)).toEqual([1, 2, 3]);
    expect(lines.find((l) => 'done' in l)).toMatchObject({ state: 'cancelled', fireCount: 3 });
  });

  test('moving-average: two worker processes share the symbols; one that handled ticks is killed, every average stays true', async () => {
    expectOk(await fuzeCli(['apply', '-f', join(repo, 'examples/moving-average/rules')]), 'apply');
    const dir = await installExample('moving-average');
    const env = { FUZE_NATS_URL: nats.url, SYMBOLS: '16', TICKS: '15', RUN: String(Date.now()) };
    const workers = [
      startProcess('npm', ['run', 'worker'], dir, { ...env, WORKER: 'a' }),
      startProcess('npm', ['run', 'worker'], dir, { ...env, WORKER: 'b' }),
    ];
    const reports = () =>
      workers.flatMap((w) =>
        w
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{"worker"') && l.includes('"tick"'))
          .map(
            (l) =>
              JSON.parse(l) as {
                worker: string;
                symbol: string;
                tick: number;
                average: number;
                over: number;
              },
          ),
      );
    const reported = (upTo: number) => {
      const seen = new Set(reports().map((r) => `${r.symbol}#${r.tick}`));
      for (let s = 0; s < 16; s++)
        for (let n = 1; n <= upTo; n++) if (!seen.has(`SYM${s}#${n}`)) return false;
      return true;
    };
    try {
      for (const w of workers)
        await waitFor(() => w.output().includes('"ready":true'), {
          timeoutMs: 60_000,
          message: 'a worker up',
        });
      expectOk(await npm(['run', 'ticks'], dir, env), 'npm run ticks');
      await waitFor(() => reported(15), { timeoutMs: 60_000, message: 'ticks 1-15 reported' });
      // Kill a worker that handled ticks (under load one may have handed all its partitions over):
      // the other takes its symbols with their windows.
      const handledBy = (name: string) => reports().filter((r) => r.worker === name).length;
      await (handledBy('a') >= handledBy('b') ? workers[0]! : workers[1]!).kill();
      expectOk(await npm(['run', 'ticks'], dir, { ...env, FROM: '15' }), 'npm run ticks, second half');
      await waitFor(() => reported(30), {
        timeoutMs: 60_000,
        message: 'ticks 16-30 reported by the survivor',
      });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const wrong = reports().filter(({ symbol, tick, average, over }) => {
      const s = Number(symbol.slice(3));
      const window = Array.from({ length: Math.min(tick, 10) }, (_, i) => s * 100 + tick - i);
      return (
        over !== window.length || Math.abs(average - window.reduce((a, b) => a + b, 0) / window.length) > 1e-9
      );
    });
    expect(wrong).toEqual([]);
  });

  test('docs/processors.md shows the example worker as it runs', () => {
    const worker = readFileSync(join(repo, 'examples/moving-average/worker.js'), 'utf8');
    expect(readFileSync(join(repo, 'docs/processors.md'), 'utf8')).toContain(worker.trim());
  });

  test('each example names the tarballs, not a registry version of @fuze/*', () => {
    for (const name of readdirSync(join(repo, 'examples'), { withFileTypes: true })) {
      if (!name.isDirectory()) continue;
      const manifest = JSON.parse(readFileSync(join(repo, 'examples', name.name, 'package.json'), 'utf8'));
      for (const [dep, spec] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }))
        if (dep.startsWith('@fuze/'))
          expect(spec, `${name.name}: ${dep}`).toMatch(/^file:\.\.\/\.\.\/\.packages\//);
    }
  });
});

/** A long-running child (the webhook receiver), killed at exit if the test does not stop it. */
function startProcess(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // npm start -> sh -> node: signal the whole group
  });
  trackChild(child, { group: true, what: `${command} ${args.join(' ')} in ${cwd}` });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => output,
    /** SIGKILL to the whole group: the process dies without closing anything. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(-child.pid, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
