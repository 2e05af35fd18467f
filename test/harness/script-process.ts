import { type ChildProcess, spawn } from 'node:child_process';
import { trackChild } from './processes.js';
import { waitFor } from './wait.js';

export interface ScriptProcess {
  child: ChildProcess;
  /** Every line the script printed on stdout so far. */
  lines: string[];
  /** Resolves with the first line (already printed or to come) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<string>;
  /** The last 20,000 characters the script wrote to stderr. */
  stderr(): string;
}

/**
 * Runs a TypeScript script of the repository in its own Node process, against the workspace's
 * sources (the `@fuze/source` condition, compiled by tsx), so fault tests can SIGKILL and
 * SIGSTOP a real application process. Killed at exit if the test does not end it.
 */
export function spawnScript(path: string, env: Record<string, string>): ScriptProcess {
  const child = spawn(process.execPath, ['--conditions=@fuze/source', '--import', 'tsx', path], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child, { what: path });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete.filter((line) => line.length > 0));
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitForLine: async (match, timeoutMs = 60_000) => {
      try {
        return await waitFor(() => lines.find(match), { timeoutMs, message: `a line from ${path}` });
      } catch (err) {
        throw new Error(`${(err as Error).message}; its stderr ends: ${stderr.slice(-2_000)}`);
      }
    },
  };
}
