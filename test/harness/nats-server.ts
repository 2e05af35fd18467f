import { join } from 'node:path';
import { findNatsServerBinary, natsServerArgs } from '@fuze/bus';
import { canConnect, freePort } from './ports.js';
import {
  logTail,
  makeTempDir,
  removeTempDir,
  type SpawnedServer,
  signalServer,
  sleep,
  spawnServer,
  untilStopped,
} from './processes.js';

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** JetStream store directory (`-sd`): kept across kill/restart. */
  storeDir: string;
  /** The server's log (stdout and stderr of every run, appended). */
  logFile: string;
  /** Pid of the running server; undefined once it has exited. */
  readonly pid: number | undefined;
  /** SIGTERM and wait for exit: a clean shutdown. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash. */
  kill(): Promise<void>;
  /** Starts the server again (stopping it first if it runs) on the same port and store dir. */
  restart(): Promise<void>;
  /**
   * SIGSTOP: the server keeps its sockets open and answers nothing (a hung host). Resolves once
   * every thread has stopped.
   */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): void;
  /** stop(), then remove the temporary directory (and the store dir, unless the caller gave it). */
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartNatsServerOptions {
  /** Client port; default: a free one. */
  port?: number;
  /** JetStream store directory; default: a fresh temporary one, removed on dispose. */
  storeDir?: string;
  /** Extra nats-server arguments. */
  args?: string[];
}

const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

class AddressInUseError extends Error {}

/** `nats-server` from PATH, else Debian's /usr/sbin/nats-server; FUZE_NATS_SERVER overrides both. */
/** `FUZE_NATS_SERVER` (a build to test against), else the binary Fuze itself would start. */
function findNatsServer(): string {
  const binary = process.env['FUZE_NATS_SERVER'] ?? findNatsServerBinary();
  if (binary) return binary;
  throw new Error('nats-server not found on PATH nor at /usr/sbin/nats-server (apt-get install nats-server)');
}

/**
 * Starts an isolated nats-server with JetStream on 127.0.0.1 for one test suite. Resolves once the
 * server accepts client connections and its monitoring endpoint reports JetStream enabled.
 */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  const dir = await makeTempDir('fuze-nats-');
  const storeDir = opts.storeDir ?? join(dir, 'jetstream');
  const logFile = join(dir, 'nats-server.log');
  let server: SpawnedServer | undefined;

  const launch = async (port: number): Promise<SpawnedServer> => {
    const monitorPort = await freePort();
    const args = natsServerArgs({ port, storeDir, monitorPort });
    const started = spawnServer(binary, [...args, ...(opts.args ?? [])], logFile);
    let exitedWith: string | undefined;
    void started.exited.then((how) => {
      exitedWith = how;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitedWith !== undefined) {
        const tail = await logTail(logFile);
        const message = `nats-server exited during start-up (${exitedWith}); log tail:\n${tail}`;
        throw tail.includes('address already in use') ? new AddressInUseError(message) : new Error(message);
      }
      if ((await jetStreamHealthy(monitorPort)) && (await canConnect(port))) return started;
      await sleep(25);
    }
    signalServer(started, 'SIGKILL');
    await started.exited;
    throw new Error(
      `nats-server not ready after ${READY_TIMEOUT_MS} ms; log tail:\n${await logTail(logFile)}`,
    );
  };

  // A port picked free can be taken before the server binds it: pick again. A fixed port (given,
  // or on restart) may still be held by the previous process for a moment: retry the same one.
  const launchWithRetry = async (fixedPort: number | undefined): Promise<{ port: number }> => {
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? (await freePort());
      try {
        server = await launch(port);
        return { port };
      } catch (err) {
        if (!(err instanceof AddressInUseError) || attempt >= START_ATTEMPTS) throw err;
        await sleep(100 * attempt);
      }
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = server;
    if (!current) return;
    signalServer(current, signal);
    const exited = await Promise.race([current.exited, sleep(STOP_GRACE_MS).then(() => undefined)]);
    if (exited === undefined) {
      signalServer(current, 'SIGKILL');
      await current.exited;
    }
    server = undefined;
  };

  let port: number;
  try {
    ({ port } = await launchWithRetry(opts.port));
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    logFile,
    get pid() {
      const child = server?.child;
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      await launchWithRetry(port);
    },
    async pause() {
      if (!server) return;
      signalServer(server, 'SIGSTOP');
      await untilStopped(server.child.pid);
    },
    resume() {
      if (server) signalServer(server, 'SIGCONT');
    },
    async [Symbol.asyncDispose]() {
      await halt('SIGTERM');
      await removeTempDir(dir);
    },
  };
}

async function jetStreamHealthy(monitorPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`, {
      signal: AbortSignal.timeout(2_000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
