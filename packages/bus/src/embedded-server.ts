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
  const { port } = new URL(options.url);
  const storeDir = join(options.dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const log = openSync(join(storeDir, 'server.log'), 'a');
  const child: ChildProcess = spawn(
    options.binary,
    ['-a', '127.0.0.1', '-p', port || '4222', '-js', '-sd', storeDir, '-n', 'fuze-embedded'],
    { stdio: ['ignore', log, log] },
  );
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 10_000;
  while (!(await natsAnswers(options.url))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new FuzeError(
        'FUZE_NATS_UNAVAILABLE',
        `embedded nats-server did not start (see ${join(storeDir, 'server.log')}); is port ${port} taken?`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  options.logger.info(
    { url: options.url, storeDir, pid: child.pid },
    'no NATS answered; started an embedded nats-server',
  );
  return {
    url: options.url,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

export function natsMissingError(url: string): FuzeError {
  return new FuzeError(
    'FUZE_NATS_UNAVAILABLE',
    `no NATS server answers at ${url} and no nats-server binary was found to start one. ` +
      'Start one with `docker compose up -d nats`, or install it (`apt install nats-server`, ' +
      'or a release from https://github.com/nats-io/nats-server/releases), or point FUZE_NATS_URL at your cluster.',
  );
}
