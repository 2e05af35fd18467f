import { execFileSync } from 'node:child_process';

/**
 * Process-level tests spawn the real `fuze` binary (packages/cli/dist/bin.js), so build it and
 * everything it depends on first. turbo's cache makes this a no-op when nothing changed.
 */
export default function buildFuzeBinary(): void {
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@fuze/cli...', '--output-logs=errors-only'], {
    stdio: 'inherit',
    cwd: new URL('..', import.meta.url).pathname,
  });
}
