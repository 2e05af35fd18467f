/**
 * One problem in a rule file. `line` and `column` are 1-based and point at the offending YAML node
 * (the key, for an unknown field; the enclosing field, for a missing one).
 */
export interface DocumentError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** `metadata.name` of the document, when it has one. */
  readonly rule?: string;
  /** Where in the document, e.g. `spec.targets[0].retry.maxDelay`; empty for the document itself. */
  readonly path: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** `file:line:column: [rule] path: message`, the shape editors and CI logs link from. */
export function formatDocumentError(error: DocumentError): string {
  const rule = error.rule === undefined ? '' : `[${error.rule}] `;
  const path = error.path === '' ? '' : `${error.path}: `;
  return `${error.file}:${error.line}:${error.column}: ${rule}${path}${error.message}`;
}
