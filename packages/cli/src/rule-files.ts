import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A rule file as the admin API's apply takes it. */
export interface RuleFile {
  path: string;
  content: string;
}

/** Reads one YAML file, or every `*.yaml`/`*.yml` under a directory (recursively, sorted). */
export function readRuleFiles(target: string): RuleFile[] {
  if (!statSync(target).isDirectory()) return [{ path: target, content: readFileSync(target, 'utf8') }];
  const files: RuleFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name))
        files.push({ path: relative(process.cwd(), path) || path, content: readFileSync(path, 'utf8') });
    }
  };
  walk(target);
  if (files.length === 0) throw new Error(`no .yaml or .yml files under ${target}`);
  return files;
}
