import { type ChildProcess, spawn } from 'node:child_process';
import { fuzeBinary } from './fuze-binary.js';

export interface FuzeProcess {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Resolves once a log line containing `text` appears. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
}

/** Spawns `fuze <args>` with only the given FUZE_* variables (plus PATH/HOME). */
export function spawnFuze(args: string[], env: Record<string, string>): FuzeProcess {
  const child = spawn(process.execPath, [fuzeBinary(), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
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
