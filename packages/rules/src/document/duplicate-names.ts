import type { DocumentError } from './document-error.js';
import type { FuzeDocument } from './document-types.js';
import type { Position } from './yaml-locator.js';

/** A parsed document with where its `metadata.name` sits, so a duplicate can be pointed at. */
export interface NamedDocument {
  readonly document: FuzeDocument;
  readonly file: string;
  readonly namePosition: Position;
}

/**
 * Names are unique per kind within a bus. The first document keeps the name; each later one is
 * reported at its `metadata.name` and dropped from the result.
 */
export function rejectDuplicateNames(named: readonly NamedDocument[]): {
  readonly documents: FuzeDocument[];
  readonly errors: DocumentError[];
} {
  const first = new Map<string, NamedDocument>();
  const documents: FuzeDocument[] = [];
  const errors: DocumentError[] = [];
  for (const entry of named) {
    const { document } = entry;
    const identity = `${document.kind}\u0000${document.bus}\u0000${document.name}`;
    const earlier = first.get(identity);
    if (!earlier) {
      first.set(identity, entry);
      documents.push(document);
      continue;
    }
    const where = `${earlier.file}:${earlier.namePosition.line}:${earlier.namePosition.column}`;
    errors.push({
      file: entry.file,
      line: entry.namePosition.line,
      column: entry.namePosition.column,
      rule: document.name,
      path: 'metadata.name',
      message: `${document.kind.toLowerCase()} "${document.name}" is already defined on bus "${document.bus}" at ${where}: rename one of them or put it on another bus`,
    });
  }
  return { documents, errors };
}
