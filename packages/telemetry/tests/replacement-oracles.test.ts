import { seededRandom } from '@fuze/test/harness';
import { type Context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, test } from 'vitest';
import { SyncContextManager } from '../src/tracing/sync-context-manager.js';

// Oracle test for ADR 0005: the synchronous context manager against OpenTelemetry's AsyncLocalStorage one, in synchronous code
// (after an await the two differ by design: Fuze passes parent contexts explicitly).

describe('SyncContextManager against AsyncLocalStorageContextManager', () => {
  test('generated nestings of with() and bind() see the same active context at every step', () => {
    const next = seededRandom(5);
    const key = createContextKey('oracle');
    const ours = new SyncContextManager().enable();
    const theirs = new AsyncLocalStorageContextManager().enable();
    const seen = { ours: [] as unknown[], theirs: [] as unknown[] };
    const run = (
      manager: SyncContextManager | AsyncLocalStorageContextManager,
      log: unknown[],
      seed: number,
    ) => {
      const rng = seededRandom(seed);
      const step = (depth: number, parent: Context): void => {
        log.push(manager.active().getValue(key));
        if (depth > 6) return;
        const children = Math.floor(rng() * 3);
        for (let c = 0; c < children; c++) {
          const ctx = rng() < 0.2 ? ROOT_CONTEXT : parent.setValue(key, `${depth}.${c}`);
          if (rng() < 0.3) manager.bind(ctx, () => step(depth + 1, ctx))();
          else manager.with(ctx, () => step(depth + 1, ctx));
          try {
            manager.with(ctx, () => {
              if (rng() < 0.1) throw new Error('unwinds');
            });
          } catch {
            // with() restores the outer context on a throw as well
          }
          log.push(manager.active().getValue(key));
        }
      };
      step(0, ROOT_CONTEXT);
    };
    for (let i = 0; i < 300; i++) {
      const seed = Math.floor(next() * 2 ** 31);
      seen.ours.length = 0;
      seen.theirs.length = 0;
      run(ours, seen.ours, seed);
      run(theirs, seen.theirs, seed);
      expect(seen.ours).toEqual(seen.theirs);
    }
    theirs.disable();
  });
});
