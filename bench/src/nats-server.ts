import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBinary, natsAnswers } from '@fuze/bus';

export interface BenchNatsServer {
  url: string;
  /** Where JetStream stores its files, and on what: `/tmp/fuze-bench-nats-x (ext4)`. */
  store: string;
  /** CPU time (user + system) the server has used so far, in µs; 0 where /proc is missing. */
  cpuMicros(): number;
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
    store: `${storeDir} (${filesystemOf(storeDir)})`,
    cpuMicros: () => processCpuMicros(child.pid),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      cleanUp();
    },
  };
}

/** utime + stime of a process from /proc/<pid>/stat (Linux), in µs. */
export function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

/** The filesystem type of the mount holding `path` (from /proc/mounts), e.g. `tmpfs`, `ext4`. */
function filesystemOf(path: string): string {
  try {
    let best = { point: '', type: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, point, type] = line.split(' ');
      if (point === undefined || type === undefined) continue;
      const covers = path === point || path.startsWith(point === '/' ? '/' : `${point}/`);
      if (covers && point.length > best.point.length) best = { point, type };
    }
    return best.type;
  } catch {
    return 'unknown';
  }
}

// USER_HZ is 100 on every Linux build this runs on.
const clockTicksPerSecond = 100;

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
