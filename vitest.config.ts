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
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2-core machines: each integration file starts its own nats-server.
    maxWorkers: 2,
    pool: 'forks',
  },
});
