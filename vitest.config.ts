import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript source under the `@fuze/source` condition,
// so tests run against src/ with no build step.
export default defineConfig({
  resolve: { conditions: ['@fuze/source', 'import', 'module', 'node', 'default'] },
  ssr: {
    resolve: {
      conditions: ['@fuze/source', 'import', 'node', 'default'],
      externalConditions: ['@fuze/source'],
    },
  },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // Ends any server a test worker left behind (a worker killed on a timeout runs no exit hook).
    globalSetup: ['./test/global-setup.ts'],
    include: ['packages/*/tests/**/*.test.ts', 'services/*/tests/**/*.test.ts', 'test/**/*.test.ts'],
    // Limits for a test that hangs, not for one that is slow: on a busy 2-core machine opening
    // PGlite twice took over 30 s, and that must make the run slower, not red.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // 2-core machines: each integration file starts its own nats-server.
    maxWorkers: 2,
    pool: 'forks',
  },
});
