import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const lockDir = fileURLToPath(new URL('../../node_modules/.cache/fuze-binary-build.lock', import.meta.url));
let built = false;

/**
 * The path of the built `fuze` binary, building it (and what it depends on) first with turbo,
 * once per test process; turbo's cache makes that a no-op when nothing changed. Only tests that
 * spawn the binary pay for it. `npm run ci` builds before testing and sets FUZE_TEST_PREBUILT=1.
 */
export function fuzeBinary(): string {
  if (built || process.env.FUZE_TEST_PREBUILT === '1') return bin;
  withLock(() => {
    execFileSync('npx', ['turbo', 'run', 'build', '--filter=@fuze/cli...', '--output-logs=errors-only'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });
  built = true;
  return bin;
}

/** Parallel test files must not run two turbo builds over the same outputs. */
function withLock(action: () => void): void {
  mkdirSync(fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url)), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      const age = Date.now() - statSafe(lockDir);
      if (age > 300_000) rmdirSync(lockDir, { recursive: true } as never); // a crashed holder
      if (Date.now() > deadline)
        throw new Error('timed out waiting for another test to build the fuze binary');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    action();
  } finally {
    rmdirSync(lockDir);
  }
}

function statSafe(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
