import type { FieldPath } from './document-location.js';

/** Which node of a field a problem points at: its key (unknown or misplaced field) or its value. */
export type ProblemTarget = 'key' | 'value';

export interface Problem {
  readonly path: FieldPath;
  readonly message: string;
  readonly target: ProblemTarget;
  /** Character offset inside a string value (e.g. in an input template), when known. */
  readonly offset?: number;
}

/** Collects every problem of one document; validation never stops at the first. */
export class Problems {
  readonly list: Problem[] = [];

  add(path: FieldPath, message: string, target: ProblemTarget = 'value', offset?: number): void {
    this.list.push(offset === undefined ? { path, message, target } : { path, message, target, offset });
  }

  get count(): number {
    return this.list.length;
  }
}
