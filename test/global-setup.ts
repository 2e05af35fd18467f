import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killRegisteredChildren } from './harness/child-registry.js';

/**
 * The run's registry of servers started by test workers (test/harness/child-registry.ts): workers
 * inherit FUZE_TEST_CHILDREN_DIR; at the end, whatever a dead worker left running is ended.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'fuze-test-children-'));
  process.env.FUZE_TEST_CHILDREN_DIR = dir;
  return () => {
    const ended = killRegisteredChildren(dir);
    if (ended.length > 0)
      console.warn(`global teardown ended ${ended.length} leftover process(es): ${ended.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
}
