import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseRuleDocuments } from '../src/document/index.js';

// ajv is CommonJS: under NodeNext its class is the default export's `default`.
const Ajv = AjvModule.default;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
const fixtures = join(here, 'fixtures/documents');
const schema: object = JSON.parse(readFileSync(join(root, 'schemas/rule.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);

interface Fixture {
  readonly name: string;
  readonly text: string;
  /** `# parser: <path>` header lines: the error paths the parser must report; a trailing `*` matches a prefix. */
  readonly expected: string[];
}

function fixturesIn(folder: string): Fixture[] {
  const dir = join(fixtures, folder);
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), 'utf8');
      const expected = [...text.matchAll(/^# parser: (.+)$/gm)].map((m) => (m[1] as string).trim());
      return { name, text, expected };
    });
}

function yamlValues(text: string): unknown[] {
  return parseAllDocuments(text)
    .filter((doc) => doc.contents !== null)
    .map((doc) => doc.toJS());
}

/** The YAML examples of the docs that are whole documents. */
function docExamples(): Fixture[] {
  return ['docs/rule-documents.md', 'docs/system-events.md'].flatMap((page) => {
    const markdown = readFileSync(join(root, page), 'utf8');
    return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m, index) => ({ name: `${page} example ${index + 1}`, text: m[1] as string, expected: [] }))
      .filter((example) => example.text.includes('apiVersion: fuze.dev/v1'));
  });
}

describe('schema and parser agree', () => {
  const valid = [...fixturesIn('valid'), ...docExamples()];

  it('has fixtures to check', () => {
    expect(valid.length).toBeGreaterThanOrEqual(5);
    expect(fixturesIn('invalid-shape').length).toBeGreaterThan(10);
  });

  it.each(valid.map((f) => [f.name, f] as const))('valid: %s', (_name, fixture) => {
    const parsed = parseRuleDocuments(fixture.text, fixture.name);
    expect(parsed.errors).toEqual([]);
    for (const value of yamlValues(fixture.text)) {
      expect(validate(value), JSON.stringify(validate.errors, null, 2)).toBe(true);
    }
    expect(parsed.documents.length).toBe(yamlValues(fixture.text).length);
  });

  it.each(fixturesIn('invalid-shape').map((f) => [f.name, f] as const))(
    'both reject: %s',
    (_name, fixture) => {
      const parsed = parseRuleDocuments(fixture.text, fixture.name);
      const paths = parsed.errors.map((e) => e.path);
      for (const expected of fixture.expected) expect(paths).toContain(expected);
      expect(parsed.documents).toEqual([]);
      const values = yamlValues(fixture.text);
      expect(values.some((value) => !validate(value))).toBe(true);
    },
  );

  // What only Fuze can check: the pattern language, template syntax, bounds and relations, uniqueness.
  it.each(fixturesIn('invalid-semantic').map((f) => [f.name, f] as const))(
    'parser only rejects: %s',
    (_name, fixture) => {
      const parsed = parseRuleDocuments(fixture.text, fixture.name);
      const paths = parsed.errors.map((e) => e.path);
      for (const expected of fixture.expected) {
        if (expected.endsWith('*')) expect(paths.some((p) => p.startsWith(expected.slice(0, -1)))).toBe(true);
        else expect(paths).toContain(expected);
      }
      for (const value of yamlValues(fixture.text))
        expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    },
  );
});
