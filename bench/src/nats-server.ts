import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBinary, natsAnswers } from '@fuze/bus';

export interface BenchNatsServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * An isolated nats-server with JetStream for one bench run: loopback, a free port, a temporary
 * store removed on stop. (The test harness exports TypeScript only, which the compiled bench
 * cannot import on Node 20, hence this small twin.)
 */
export async function startBenchNatsServer(): Promise<BenchNatsServer> {
  const binary = findNatsServerBinary();
  if (!binary)
    throw new Error('nats-server not found on PATH nor in /usr/sbin (apt-get install nats-server)');
  const storeDir = mkdtempSync(join(tmpdir(), 'fuze-bench-nats-'));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanUp = () => rmSync(storeDir, { recursive: true, force: true });
  const deadline = Date.now() + 15_000;
  while (!(await natsAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanUp();
      throw new Error(`nats-server did not start on ${url}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      cleanUp();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}
