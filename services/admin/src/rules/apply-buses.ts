import type { StoredBus } from '@fuze/db';
import type { BusDocument, DocumentError } from '@fuze/rules';
import { canonicalJson } from './rule-ref.js';

/** What an apply did (or, on a dry run, would do) to `kind: Bus` documents, by bus name. */
export interface ApplyBusesResult {
  created: string[];
  changed: string[];
  /** Buses whose document was removed by `prune`: they go back to default settings. */
  deleted: string[];
  unchanged: string[];
}

export interface BusPlan {
  summary: ApplyBusesResult;
  changes: Array<{ bus: string; document: Record<string, unknown> | null }>;
}

/** What is stored for a bus: the normalised document without where it was read from. */
export function storedBusDocument(doc: BusDocument): Record<string, unknown> {
  const { source: _source, ...rest } = doc;
  return rest as unknown as Record<string, unknown>;
}

/**
 * Compares the files' bus documents with the stored ones. With `prune`, a bus named by any
 * document of the files whose own Bus document is gone from them loses its stored one.
 */
export function planBuses(
  documents: BusDocument[],
  stored: StoredBus[],
  prune: { buses: string[] } | undefined,
): BusPlan {
  const summary: ApplyBusesResult = { created: [], changed: [], deleted: [], unchanged: [] };
  const changes: BusPlan['changes'] = [];
  const before = new Map(stored.map((b) => [b.bus, b.document]));
  for (const doc of documents) {
    const document = storedBusDocument(doc);
    const previous = before.get(doc.name) ?? null;
    if (previous !== null && canonicalJson(previous) === canonicalJson(document)) {
      summary.unchanged.push(doc.name);
      continue;
    }
    (previous === null ? summary.created : summary.changed).push(doc.name);
    changes.push({ bus: doc.name, document });
  }
  const declared = new Set(documents.map((d) => d.name));
  for (const bus of prune?.buses ?? []) {
    if (declared.has(bus) || (before.get(bus) ?? null) === null) continue;
    summary.deleted.push(bus);
    changes.push({ bus, document: null });
  }
  return { summary, changes };
}

/** One Bus document per bus across all the files. */
export function duplicateBuses(documents: BusDocument[]): DocumentError[] {
  const seen = new Map<string, BusDocument>();
  const errors: DocumentError[] = [];
  for (const doc of documents) {
    const first = seen.get(doc.name);
    if (first === undefined) {
      seen.set(doc.name, doc);
      continue;
    }
    errors.push({
      file: doc.source.file,
      line: doc.source.line,
      column: 1,
      rule: doc.name,
      path: 'metadata.name',
      message: `bus "${doc.name}" is also declared at ${first.source.file}:${first.source.line}: one Bus document per bus`,
    });
  }
  return errors;
}
