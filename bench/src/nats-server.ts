import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBinary, type LaunchedNatsServer, launchNatsServer } from '@fuze/bus';

export interface BenchNatsServer {
  url: string;
  /** Where JetStream stores its files, and on what: `/tmp/fuze-bench-nats-x (ext4)`. */
  store: string;
  /** CPU time (user + system) the server has used so far, in µs; 0 where /proc is missing. */
  cpuMicros(): number;
  stop(): Promise<void>;
}

/** An isolated nats-server with JetStream for one bench run: a free port, a temporary store removed on stop. */
export async function startBenchNatsServer(): Promise<BenchNatsServer> {
  const binary = findNatsServerBinary();
  if (!binary)
    throw new Error('nats-server not found on PATH nor in /usr/sbin (apt-get install nats-server)');
  const storeDir = mkdtempSync(join(tmpdir(), 'fuze-bench-nats-'));
  const cleanUp = () => rmSync(storeDir, { recursive: true, force: true });
  let server: LaunchedNatsServer;
  try {
    server = await launchNatsServer({
      binary,
      placement: { port: await freePort(), storeDir },
      readyTimeoutMs: 15_000,
    });
  } catch (err) {
    cleanUp();
    throw err;
  }
  return {
    url: server.url,
    store: `${storeDir} (${filesystemOf(storeDir)})`,
    cpuMicros: () => processCpuMicros(server.child.pid),
    async stop() {
      await server.stop();
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

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}
