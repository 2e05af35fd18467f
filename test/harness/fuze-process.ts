import { type ChildProcess, spawn } from 'node:child_process';
import { fuzeBinary } from './fuze-binary.js';
import { trackChild } from './processes.js';

export interface FuzeProcess {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** What the process wrote to stderr alone. */
  stderr(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Resolves once a log line containing `text` appears. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
}

/**
 * Spawns `fuze <args>` with only the given FUZE_* variables (plus PATH/HOME): the repository's
 * build, or `options.executable` (a `fuze` installed from the packed tarball). The child is killed
 * at exit if the test does not end it.
 */
export function spawnFuze(
  args: string[],
  env: Record<string, string>,
  options: { executable?: string; cwd?: string } = {},
): FuzeProcess {
  const [command, commandArgs] = options.executable
    ? [options.executable, args]
    : [process.execPath, [fuzeBinary(), ...args]];
  const child = spawn(command, commandArgs, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  trackChild(child, { what: `fuze ${args.join(' ')}` });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  let stderr = '';
  child.stdout?.on('data', onData);
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    onData(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stderr: () => stderr,
    exited,
    waitForLog(text, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`fuze did not log "${text}" within ${timeoutMs} ms. Output:\n${output.slice(-4000)}`),
          );
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!output.includes(text)) {
            clearTimeout(timer);
            reject(new Error(`fuze exited before logging "${text}". Output:\n${output.slice(-4000)}`));
          }
        });
        check();
      });
    },
  };
}
