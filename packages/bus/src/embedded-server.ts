import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { FuzeError, type Logger } from '@fuze/core';
import { natsAnswers } from './connect.js';

export interface EmbeddedNatsServer {
  url: string;
  stop(): Promise<void>;
}

/** The nats-server binary on PATH (or Debian's /usr/sbin), if any. */
export function findNatsServerBinary(): string | undefined {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Where and how one JetStream nats-server listens: loopback only. */
export interface NatsServerPlacement {
  port: number;
  storeDir: string;
  /** Server name (`-n`). */
  name?: string;
  /** HTTP monitoring port (`-m`), for health checks. */
  monitorPort?: number;
}

/** The command line of a JetStream nats-server: one definition for Fuze, its tests and benches. */
export function natsServerArgs(placement: NatsServerPlacement): string[] {
  return [
    '-js',
    '-sd',
    placement.storeDir,
    '-a',
    '127.0.0.1',
    '-p',
    String(placement.port),
    ...(placement.name === undefined ? [] : ['-n', placement.name]),
    ...(placement.monitorPort === undefined ? [] : ['-m', String(placement.monitorPort)]),
  ];
}

export interface LaunchedNatsServer {
  url: string;
  child: ChildProcess;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Spawns nats-server with {@link natsServerArgs} and resolves once it answers clients; `log`: a
 * file descriptor for its output, or none. A server that exits or does not answer within
 * `readyTimeoutMs` is killed and the promise rejects with `failure` (or a plain Error).
 */
export async function launchNatsServer(options: {
  binary: string;
  placement: NatsServerPlacement;
  log?: number;
  readyTimeoutMs?: number;
  failure?: (reason: string) => Error;
}): Promise<LaunchedNatsServer> {
  const url = `nats://127.0.0.1:${options.placement.port}`;
  const log = options.log ?? 'ignore';
  const child: ChildProcess = spawn(options.binary, natsServerArgs(options.placement), {
    stdio: ['ignore', log, log],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  while (!(await natsAnswers(url))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      const reason = exited ? 'exited during start-up' : 'did not answer in time';
      throw options.failure?.(reason) ?? new Error(`nats-server on ${url} ${reason}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await exit;
    },
  };
}

/**
 * Starts nats-server with JetStream for a laptop run: loopback only, store under
 * `${dataDir}/nats`, log under `${dataDir}/nats/server.log`. Stopped when Fuze stops.
 */
export async function startEmbeddedNatsServer(options: {
  binary: string;
  url: string;
  dataDir: string;
  logger: Logger;
}): Promise<EmbeddedNatsServer> {
  const port = new URL(options.url).port || '4222';
  const storeDir = join(options.dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const server = await launchNatsServer({
    binary: options.binary,
    placement: { port: Number(port), storeDir, name: 'fuze-embedded' },
    log: openSync(join(storeDir, 'server.log'), 'a'),
    failure: () =>
      new FuzeError(
        'FUZE_NATS_UNAVAILABLE',
        `embedded nats-server did not start (see ${join(storeDir, 'server.log')}); is port ${port} taken?`,
      ),
  });
  options.logger.info(
    { url: options.url, storeDir, pid: server.child.pid },
    'no NATS answered; started an embedded nats-server',
  );
  return { url: options.url, stop: () => server.stop() };
}

export function natsMissingError(url: string): FuzeError {
  return new FuzeError(
    'FUZE_NATS_UNAVAILABLE',
    `no NATS server answers at ${url} and no nats-server binary was found to start one. ` +
      'Start one with `docker compose up -d nats`, or install it (`apt install nats-server`, ' +
      'or a release from https://github.com/nats-io/nats-server/releases), or point FUZE_NATS_URL at your cluster.',
  );
}
