import { execFile } from 'node:child_process';
import { fuzeBinary } from './fuze-binary.js';

/**
 * Runs the built `fuze` to its end with only PATH and `env`, and answers its exit code and output.
 * Asynchronous on purpose: a test whose admin API runs in its own process would deadlock on a
 * blocking spawnSync.
 */
export function runFuzeCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fuzeBinary(), ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
