import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import setup from './global-setup.js';
import { registerChild } from './harness/child-registry.js';

// A test worker that is SIGKILLed (a timeout, an OOM) runs no exit hook, so the servers it started
// would outlive the run. They are written down as they start; the global teardown ends them.
test('a server left behind by a worker that died is ended by the global teardown', async () => {
  const previous = process.env.FUZE_TEST_CHILDREN_DIR;
  const teardown = setup(); // a registry of its own, as at the start of a run
  const dir = process.env.FUZE_TEST_CHILDREN_DIR as string;
  try {
    // Started as the harness starts servers (its own process group), then orphaned: nothing of
    // this worker will stop it.
    const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      orphan.once('exit', (_c, signal) => resolve(signal)),
    );
    registerChild(orphan.pid, { group: true, what: 'sleep 300' });
    expect(readdirSync(dir)).toEqual([String(orphan.pid)]);

    teardown();
    expect(await exited).toBe('SIGKILL');
  } finally {
    process.env.FUZE_TEST_CHILDREN_DIR = previous;
  }
});
