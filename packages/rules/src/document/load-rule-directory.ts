import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DocumentError } from './document-error.js';
import { type NamedDocument, rejectDuplicateNames } from './duplicate-names.js';
import { type ParsedDocuments, parseFile } from './parse-rule-documents.js';

const ruleFile = /\.ya?ml$/;

function readFailure(file: string, err: unknown): DocumentError {
  const reason = err instanceof Error ? err.message : String(err);
  return { file, line: 1, column: 1, path: '', message: `cannot read: ${reason}` };
}

/**
 * Every `*.yaml` / `*.yml` under `dir`, recursively. Hidden entries (`.git`, `.fuze`) are skipped;
 * symlinked files are followed, symlinked directories are not (no cycles).
 */
async function findRuleFiles(dir: string, errors: DocumentError[]): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    errors.push(readFailure(dir, err));
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await findRuleFiles(path, errors)));
    else if (ruleFile.test(entry.name)) {
      if (entry.isFile()) files.push(path);
      else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile())
        files.push(path);
    }
  }
  return files;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Loads a directory of rule files, in code-point order of their paths so a load is the same on every
 * machine. Like parseRuleDocuments it reports problems instead of throwing, unreadable files included;
 * names must be unique per kind and bus across all the files.
 */
export async function loadRuleDirectory(dir: string): Promise<ParsedDocuments> {
  const errors: DocumentError[] = [];
  const files = (await findRuleFiles(dir, errors)).sort(byCodePoint);
  const named: NamedDocument[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push(readFailure(file, err));
      continue;
    }
    const parsed = parseFile(text, file);
    named.push(...parsed.named);
    errors.push(...parsed.errors);
  }
  const unique = rejectDuplicateNames(named);
  const order = new Map(files.map((file, index) => [file, index]));
  const all = [...errors, ...unique.errors].sort(
    (a, b) => (order.get(a.file) ?? -1) - (order.get(b.file) ?? -1) || a.line - b.line || a.column - b.column,
  );
  return { documents: unique.documents, errors: all };
}
