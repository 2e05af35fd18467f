import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// The closing line CI reads must say what vitest's own summary says, for passing, failing, skipped
// and to-do tests and for a file whose hook fails (vitest counts its tests as skipped).
test('the closing line repeats the counts of vitest\'s "Tests" line', { timeout: 120_000 }, async () => {
  const root = fileURLToPath(new URL('./fixtures/summary/', import.meta.url));
  const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
  const output = await new Promise<{ code: number; text: string; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [vitest, 'run', '--root', root, '--config', `${root}vitest.fixture.config.ts`],
      { cwd: root, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, text: stdout + stderr, stdout }),
    );
  });
  expect(output.code).toBe(1);
  const vitestLine = output.text.split('\n').find((l) => /^\s*Tests\s/.test(l));
  const count = (word: string) => Number(vitestLine?.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
  const vitestCounts = {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped') + count('todo'),
  };
  expect(vitestCounts).toEqual({ passed: 1, failed: 1, skipped: 4 });
  const closing = output.stdout.trimEnd().split('\n').at(-1);
  expect(closing).toBe(
    `${vitestCounts.passed} passed, ${vitestCounts.failed} failed, ${vitestCounts.skipped} skipped`,
  );
  expect(output.text).toContain('1 test file(s) failed outside their tests');
});
