import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { registerChild, unregisterChild } from './child-registry.js';

/**
 * Child servers started by this process, and their temporary directories. At exit (normal, or by
 * SIGINT/SIGTERM/SIGHUP) the servers are SIGKILLed and the directories removed, so an interrupted
 * test run leaves nothing behind.
 */
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Children spawned detached: they lead their own process group, signalled as a whole. */
const groupLeaders = new WeakSet<ChildProcess>();
let hooked = false;

function signalChild(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(group && groupLeaders.has(child) ? -pid : pid, signal);
  } catch {
    // exited meanwhile
  }
}

function killAll(): void {
  for (const child of live) {
    signalChild(child, 'SIGKILL', true);
    unregisterChild(child.pid); // ended here: the global teardown must not signal its pid again
  }
  live.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a killed server may still be closing files: leave the directory in the OS temp dir
    }
  }
  tempDirs.clear();
}

/** A new temporary directory, removed at process exit if {@link removeTempDir} was not called. */
export async function makeTempDir(prefix: string): Promise<string> {
  hookExit();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.off(signal, onSignal);
      // Keep the default behaviour (terminate) unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Tracks a child spawned elsewhere (with pipes, say) so that it is SIGKILLed at process exit too;
 * `group` for one spawned `detached` (its whole process group is killed).
 */
export function trackChild(child: ChildProcess, { group = false, what = 'child process' } = {}): void {
  hookExit();
  if (group) groupLeaders.add(child);
  live.add(child);
  registerChild(child.pid, { group, what });
  child.once('exit', () => {
    live.delete(child);
    unregisterChild(child.pid);
  });
}

export interface SpawnedServer {
  child: ChildProcess;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<string>;
}

/**
 * Spawns a long-running server with stdout and stderr appended to `logFile`, and tracks it for
 * clean-up at exit. `group: true` makes it lead a new process group (see {@link signalServer}).
 */
export function spawnServer(
  command: string,
  args: string[],
  logFile: string,
  options: Pick<SpawnOptions, 'uid' | 'gid' | 'env'> & { group?: boolean } = {},
): SpawnedServer {
  hookExit();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ['ignore', fd, fd],
      detached: options.group ?? false,
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  } finally {
    closeSync(fd);
  }
  trackChild(child, { group: options.group ?? false, what: basename(command) });
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      live.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  return { child, exited };
}

/** True while the process (or, for a group leader, any process of its group) is alive. */
export function isAlive(pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sends `signal` to the server; with `group`, to its whole process group if it was spawned with
 * `group` (a crash of the server and all its worker processes at once).
 */
export function signalServer(server: SpawnedServer, signal: NodeJS.Signals, { group = false } = {}): void {
  signalChild(server.child, signal, group);
}

/**
 * Resolves once every thread of `pid` is stopped (state `T` in /proc/<pid>/task/<tid>/stat): a
 * SIGSTOP is delivered asynchronously, and a thread running on another core can still answer a
 * request sent right after `kill` returned.
 */
export async function untilStopped(pid: number | undefined, timeoutMs = 5_000): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let running = false;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (state !== 'T' && state !== 't') running = true;
      }
    } catch {
      return; // exited, or no /proc: nothing more to wait for
    }
    if (!running) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`process ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
}

/**
 * Sends `signal` to the server and every process it forked (from /proc). Postgres backends call
 * setsid(), so a process-group signal reaches the postmaster alone.
 */
export function signalServerTree(server: SpawnedServer, signal: NodeJS.Signals): void {
  const root = server.child.pid;
  if (root === undefined) return;
  for (const pid of [root, ...childPids(root)]) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

function childPids(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/** The last `lines` lines of a log file, for error messages. */
export async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
