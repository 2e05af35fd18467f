import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import type { DocumentError } from './document-error.js';
import { formatFieldPath } from './document-location.js';
import type { FuzeDocument } from './document-types.js';
import { type NamedDocument, rejectDuplicateNames } from './duplicate-names.js';
import { Problems } from './problems.js';
import { readDocument } from './read-document.js';
import { YamlLocator } from './yaml-locator.js';

export interface ParsedDocuments {
  /** Valid documents only, normalised, in file order. */
  readonly documents: FuzeDocument[];
  /** Every problem found, by file, then line and column. */
  readonly errors: DocumentError[];
}

/** Alias expansions a document may make: enough for shared blocks, too few for an alias bomb. */
const maxAliases = 100;

function byPosition(a: DocumentError, b: DocumentError): number {
  return a.line - b.line || a.column - b.column;
}

/** Parses one file without the cross-document duplicate check (loadRuleDirectory runs it over all files). */
export function parseFile(text: string, file: string): { named: NamedDocument[]; errors: DocumentError[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const named: NamedDocument[] = [];
  const errors: DocumentError[] = [];
  if (!Array.isArray(parsed)) return { named, errors };

  for (const yamlDocument of parsed) {
    const locator = new YamlLocator(yamlDocument, lineCounter, text);
    if (yamlDocument.errors.length > 0) {
      // Syntax errors make the content unreliable: report them and skip the document.
      for (const error of yamlDocument.errors) {
        const at = locator.position(error.pos[0]);
        errors.push({ file, ...at, path: '', message: `YAML syntax: ${error.message}` });
      }
      continue;
    }
    // An empty document, e.g. between two `---` or after a trailing one.
    const contents = yamlDocument.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue;

    const problems = new Problems();
    const start = locator.documentStart();
    let value: unknown;
    try {
      // An alias bomb (aliases of aliases, a billion values from a few lines) stops here.
      value = yamlDocument.toJS({ maxAliasCount: maxAliases });
    } catch (err) {
      errors.push({
        file,
        ...start,
        path: '',
        message: `YAML: ${(err as Error).message} (at most ${maxAliases} alias expansions per document)`,
      });
      continue;
    }
    const { document, name } = readDocument(value, { file, line: start.line }, problems);
    for (const problem of problems.list) {
      const at = locator.locate(problem.path, problem.target, problem.offset);
      errors.push({
        file,
        ...at,
        ...(name === undefined ? {} : { rule: name }),
        path: formatFieldPath(problem.path),
        message: problem.message,
      });
    }
    if (document) named.push({ document, file, namePosition: locator.locate(['metadata', 'name'], 'value') });
  }
  return { named, errors };
}

/**
 * Parses the YAML documents of one file (`---` separated). Never throws for a user's mistake: every
 * problem is returned in `errors`, with its line and column, and only valid documents in `documents`.
 */
export function parseRuleDocuments(text: string, file: string): ParsedDocuments {
  const { named, errors } = parseFile(text, file);
  const unique = rejectDuplicateNames(named);
  return { documents: unique.documents, errors: [...errors, ...unique.errors].sort(byPosition) };
}
