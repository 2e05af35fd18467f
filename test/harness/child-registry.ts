import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every server a test worker starts is written down in the run's registry folder (one file per
 * pid; `FUZE_TEST_CHILDREN_DIR`, set by test/global-setup.ts) and crossed out when it exits. A
 * worker that dies without running its exit handlers (SIGKILLed on a timeout, say) leaves its
 * files behind, and the global teardown ends those processes: no server outlives the test run.
 */
const registryDir = (): string | undefined => process.env.FUZE_TEST_CHILDREN_DIR || undefined;

export function registerChild(pid: number | undefined, options: { group: boolean; what: string }): void {
  const dir = registryDir();
  if (!dir || pid === undefined) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, String(pid)), JSON.stringify({ group: options.group, what: options.what }));
}

export function unregisterChild(pid: number | undefined): void {
  const dir = registryDir();
  if (!dir || pid === undefined) return;
  rmSync(join(dir, String(pid)), { force: true });
}

/** SIGKILLs every process still written down in `dir` (its group, for group leaders); returns what it ended. */
export function killRegisteredChildren(dir: string): string[] {
  const ended: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return ended;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const { group, what } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
      group: boolean;
      what: string;
    };
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
      ended.push(`${what} (pid ${pid})`);
    } catch {
      // already gone
    }
    rmSync(join(dir, name), { force: true });
  }
  return ended;
}
