import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './ports.js';
import {
  isAlive,
  logTail,
  makeTempDir,
  removeTempDir,
  type SpawnedServer,
  signalServer,
  signalServerTree,
  sleep,
  spawnServer,
} from './processes.js';

const run = promisify(execFile);

const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const START_ATTEMPTS = 5;
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 30_000;

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** `fuze_test_<random>` */
  name: string;
  /** Terminates the database's connections and drops it. Idempotent. */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/**
 * Creates a fresh, empty database on the server of FUZE_TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), so each suite or test gets one of its own.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env['FUZE_TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;
  const name = `fuze_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (sql) => sql.unsafe(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = (): Promise<void> =>
    withAdmin(adminUrl, async (sql) => {
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = ${name} AND pid <> pg_backend_pid()`;
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  return { url: url.toString(), name, drop, [Symbol.asyncDispose]: drop };
}

export interface PostgresServerHandle {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  url: string;
  port: number;
  /** The server's log, appended across restarts. */
  logFile: string;
  /** Fast shutdown (SIGINT to the postmaster: sessions are ended, data is checkpointed). */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster and all its processes at once: a crash; restart recovers from WAL. */
  kill(): Promise<void>;
  /** Starts the server again (stopping it first if it runs) on the same port and data directory. */
  restart(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open, queries never answer. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** stop(), then remove the temporary directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** FUZE_PG_BINDIR, else `pg_config --bindir`, else the newest /usr/lib/postgresql/<v>/bin. */
async function findPostgresBinDir(): Promise<string> {
  const candidates: string[] = [];
  if (process.env['FUZE_PG_BINDIR']) candidates.push(process.env['FUZE_PG_BINDIR']);
  try {
    candidates.push((await run('pg_config', ['--bindir'])).stdout.trim());
  } catch {
    // no pg_config on PATH
  }
  try {
    const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not a Debian layout
  }
  for (const dir of candidates) {
    try {
      await access(join(dir, 'initdb'), constants.X_OK);
      await access(join(dir, 'postgres'), constants.X_OK);
      return dir;
    } catch {
      // try the next one
    }
  }
  throw new Error(`PostgreSQL server binaries not found (looked in: ${candidates.join(', ') || 'nothing'})`);
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root and there is no `postgres` OS user to run the server as');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts a private PostgreSQL server (initdb in a temporary directory, trust auth, 127.0.0.1 on a
 * free port, unix socket in the temporary directory) for fault tests that stop, kill or restart
 * it. initdb takes a few seconds: use {@link createTestDatabase} when no fault is injected.
 */
export async function startPostgresServer(): Promise<PostgresServerHandle> {
  const binDir = await findPostgresBinDir();
  const user = await serverUser();
  const dir = await makeTempDir('fuze-pg-');
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  let server: SpawnedServer | undefined;

  const launch = async (port: number): Promise<SpawnedServer> => {
    const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'];
    // fsync=off: a killed server loses nothing (the kernel keeps the writes), only a machine crash would.
    args.push('-c', 'fsync=off');
    const started = spawnServer(join(binDir, 'postgres'), args, logFile, { ...user, group: true });
    let exitedWith: string | undefined;
    void started.exited.then((how) => {
      exitedWith = how;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitedWith !== undefined) {
        const tail = await logTail(logFile);
        const message = `postgres exited during start-up (${exitedWith}); log tail:\n${tail}`;
        throw /address already in use/i.test(tail) ? new AddressInUseError(message) : new Error(message);
      }
      if (await acceptsConnections(binDir, port)) return started;
      await sleep(50);
    }
    await crash(started);
    throw new Error(`postgres not ready after ${READY_TIMEOUT_MS} ms; log tail:\n${await logTail(logFile)}`);
  };

  const launchWithRetry = async (fixedPort: number | undefined): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? (await freePort());
      try {
        server = await launch(port);
        return port;
      } catch (err) {
        if (!(err instanceof AddressInUseError) || attempt >= START_ATTEMPTS) throw err;
        await sleep(100 * attempt);
      }
    }
  };

  const stop = async (): Promise<void> => {
    const current = server;
    if (!current) return;
    signalServer(current, 'SIGINT');
    const exited = await Promise.race([current.exited, sleep(STOP_GRACE_MS).then(() => undefined)]);
    if (exited === undefined) await crash(current);
    server = undefined;
  };

  const kill = async (): Promise<void> => {
    const current = server;
    if (!current) return;
    await crash(current);
    server = undefined;
  };

  let port: number;
  try {
    await mkdir(socketDir);
    if (user) {
      await chown(dir, user.uid, user.gid);
      await chown(socketDir, user.uid, user.gid);
    }
    const initdbArgs = [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ];
    await run(join(binDir, 'initdb'), initdbArgs, { ...user, cwd: dir }).catch((err: unknown) => {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`initdb failed:\n${stdout}${stderr}`, { cause: err });
    });
    port = await launchWithRetry(undefined);
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    logFile,
    stop,
    kill,
    async restart() {
      await stop();
      await launchWithRetry(port);
    },
    pause() {
      if (server) signalServerTree(server, 'SIGSTOP');
    },
    resume() {
      if (server) signalServerTree(server, 'SIGCONT');
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await removeTempDir(dir);
    },
  };
}

class AddressInUseError extends Error {}

/**
 * SIGKILL to the postmaster's whole process group, then wait for the group to empty: a new
 * postmaster refuses the data directory while old backends still hold its shared memory.
 */
async function crash(server: SpawnedServer): Promise<void> {
  const pid = server.child.pid;
  signalServer(server, 'SIGKILL', { group: true });
  await server.exited;
  // Bounded: a backend reparented to an init that does not reap stays a zombie, which holds nothing.
  for (let i = 0; pid !== undefined && i < 200 && isAlive(pid, true); i++) await sleep(25);
}

async function acceptsConnections(binDir: string, port: number): Promise<boolean> {
  try {
    await run(join(binDir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '2']);
    return true;
  } catch {
    return false;
  }
}
