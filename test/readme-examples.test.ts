import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createTestDatabase,
  type FuzeProcess,
  freePorts,
  fuzeBinary,
  makeTempDir,
  type NatsServerHandle,
  removeTempDir,
  spawnFuze,
  startNatsServer,
  type TestDatabase,
} from './harness/index.js';

// README's fenced shell and YAML examples, run as written against a real `fuze serve`: each YAML
// block is saved under the name its first comment gives, and each shell command runs in bash with
// `npx fuze` as the built binary and the default ports as this server's. A command this test does
// not run is listed in `notRunHere` with the reason; any other command README gains is run, so
// README cannot show a command that does not work.
const repo = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

const notRunHere: Array<[RegExp, string]> = [
  [/^npm install && npm (start|run ci)$/, 'the set-up commands: CI runs them on a fresh clone (.ci/run)'],
  [/^npm install (-g )?\/path\/to\/fuze\//, 'installing the tarballs: test/packed-examples.test.ts does it'],
  [/<[a-z-]+>/, 'a placeholder to fill in (e.g. <id>)'],
];

interface Block {
  lang: string;
  text: string;
}

function fencedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] as string,
    text: m[2] as string,
  }));
}

/** A block's commands (continuation lines joined), each with the `# ...` lines that follow it. */
function commandsOf(block: string): Array<{ command: string; expected: string[] }> {
  const commands: Array<{ command: string; expected: string[] }> = [];
  let pending = '';
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      commands.at(-1)?.expected.push(line.replace(/^#\s?/, ''));
      continue;
    }
    const text = pending + line.replace(/\s+#\s.*$/, ''); // drop a trailing comment
    if (text.trimEnd().endsWith('\\')) pending = `${text.trimEnd().slice(0, -1)} `;
    else if (pending !== '' || !/^\s/.test(line) || commands.length === 0) {
      commands.push({ command: text.trim(), expected: [] });
      pending = '';
    } else {
      // an indented line continues the previous command (README's curl body spans two lines)
      const last = commands.at(-1) as { command: string };
      last.command += ` ${text.trim()}`;
    }
  }
  return commands;
}

let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: FuzeProcess;
let cwd: string;
let ports: { gateway: number; admin: number };

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  cwd = await makeTempDir('fuze-readme-');
  const [gateway, admin, metrics] = await freePorts(3);
  ports = { gateway: gateway as number, admin: admin as number };
  fuze = spawnFuze(['serve'], {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: db.url,
    FUZE_DATA_DIR: join(cwd, '.fuze'),
    FUZE_GATEWAY_PORT: String(gateway),
    FUZE_ADMIN_PORT: String(admin),
    FUZE_METRICS_PORT: String(metrics),
  });
  await fuze.waitForLog('fuze is running', 120_000);
}, 180_000);

afterAll(async () => {
  if (fuze && fuze.child.exitCode === null) {
    fuze.child.kill('SIGTERM');
    await fuze.exited;
  }
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  if (cwd) await removeTempDir(cwd);
});

function bash(command: string): Promise<{ code: number; output: string }> {
  const local = command
    .replaceAll('http://127.0.0.1:8080', `http://127.0.0.1:${ports.gateway}`)
    .replaceAll('http://127.0.0.1:8081', `http://127.0.0.1:${ports.admin}`)
    .replace(/^npx fuze /, `"${process.execPath}" "${fuzeBinary()}" `);
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', local],
      { cwd, env: { ...process.env, FUZE_ADMIN_URL: `http://127.0.0.1:${ports.admin}` }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("README's examples", { timeout: 300_000 }, () => {
  test('every YAML block names its file and applies; every shell command runs as written', async () => {
    const blocks = fencedBlocks(readme);
    const yaml = blocks.filter((b) => b.lang === 'yaml');
    expect(yaml.length).toBeGreaterThan(0);
    for (const block of yaml) {
      const name = block.text.match(/^#\s*(\S+\.ya?ml)/)?.[1];
      expect(name, `a README YAML block names its file in its first comment:\n${block.text}`).toBeDefined();
      mkdirSync(join(cwd, name as string, '..'), { recursive: true });
      writeFileSync(join(cwd, name as string), block.text);
    }
    // `fuze rules test -e event.json`: the event README publishes with curl.
    const published = readme.match(/-d '(\{"specversion"[\s\S]*?\})'/)?.[1];
    expect(published).toBeDefined();
    writeFileSync(join(cwd, 'event.json'), (published as string).replace(/\n\s*/g, ' '));

    const ran: string[] = [];
    const skipped: string[] = [];
    for (const block of blocks.filter((b) => b.lang === 'sh')) {
      for (const { command, expected } of commandsOf(block.text)) {
        const reason = notRunHere.find(([pattern]) => pattern.test(command));
        if (reason) {
          skipped.push(`${command}: ${reason[1]}`);
          continue;
        }
        const result = await bash(command);
        expect({ command, code: result.code, output: result.code === 0 ? '' : result.output }).toEqual({
          command,
          code: 0,
          output: '',
        });
        for (const line of expected) expect(result.output, `${command} prints ${line}`).toContain(line);
        ran.push(command);
      }
    }
    expect(ran).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^curl /),
        'npx fuze apply -f rules/ --dry-run',
        'npx fuze apply -f rules/',
        'npx fuze rules test -e event.json',
      ]),
    );
    expect(skipped.length).toBeLessThan(ran.length);
  });
});
