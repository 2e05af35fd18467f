import { execFileSync } from 'node:child_process';

/**
 * Process-level tests spawn the real `fuze` binary (packages/cli/dist/bin.js), so build it and
 * everything it depends on first; turbo's cache makes this a no-op when nothing changed.
 * A failed build is reported but does not stop the run: CI builds strictly before testing
 * (`npm run ci`), and a half-edited package elsewhere should not block unrelated tests locally.
 */
export default function buildFuzeBinary(): void {
  try {
    execFileSync('npx', ['turbo', 'run', 'build', '--filter=@fuze/cli...', '--output-logs=errors-only'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: new URL('..', import.meta.url).pathname,
    });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').slice(-2000);
    console.warn(
      `\n[global-setup] building the fuze binary failed; process tests use the last build.\n${stderr}\n`,
    );
  }
}
