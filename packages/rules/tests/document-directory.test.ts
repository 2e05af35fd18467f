import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRuleDirectory } from '../src/document/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/rule-directory');

describe('loadRuleDirectory', () => {
  it('reads *.yaml and *.yml recursively, in path order, skipping hidden entries and other files', async () => {
    const { documents } = await loadRuleDirectory(dir);
    expect(documents.map((d) => [d.source.file.slice(dir.length + 1), d.kind, d.bus, d.name])).toEqual([
      ['a-orders.yaml', 'Rule', 'default', 'orders'],
      ['nested/b-schedules.yml', 'Schedule', 'default', 'nightly'],
      ['nested/d-duplicate.yaml', 'Rule', 'archive', 'orders'],
    ]);
  });

  it('reports per-file errors and duplicate names across files', async () => {
    const { errors } = await loadRuleDirectory(dir);
    expect(errors).toEqual([
      {
        file: join(dir, 'nested/d-duplicate.yaml'),
        line: 4,
        column: 19,
        rule: 'orders',
        path: 'metadata.name',
        message: `rule "orders" is already defined on bus "default" at ${join(dir, 'a-orders.yaml')}:3:19: rename one of them or put it on another bus`,
      },
      {
        file: join(dir, 'nested/deeper/c-broken.yaml'),
        line: 6,
        column: 60,
        rule: 'broken',
        path: 'spec.targets[0].retry.maxAttempts',
        message: 'must be a whole number from 1 to 185, not number 0',
      },
    ]);
  });

  it('is deterministic', async () => {
    expect(await loadRuleDirectory(dir)).toEqual(await loadRuleDirectory(dir));
  });

  it('reports a directory it cannot read instead of throwing', async () => {
    const missing = join(dir, 'no-such-dir');
    const { documents, errors } = await loadRuleDirectory(missing);
    expect(documents).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: missing, line: 1, column: 1, path: '' });
    expect(errors[0]?.message).toContain('cannot read: ENOENT');
  });
});
