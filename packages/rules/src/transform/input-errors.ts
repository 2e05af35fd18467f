import { type FieldPath, formatFieldPath } from '../document/document-location.js';

/** One problem with an `input` spec; `offset` is the character index inside a template, when it applies. */
export interface InputIssue {
  readonly path: string;
  readonly segments: FieldPath;
  readonly message: string;
  readonly offset?: number;
}

/**
 * A target's `input` spec is invalid: thrown by `compileInput` when a rule is applied, never while
 * delivering. `path`/`message` describe the first problem; `issues` lists every one found.
 */
export class InvalidInputError extends Error {
  readonly code = 'FUZE_INVALID_INPUT';
  readonly path: string;
  readonly segments: FieldPath;
  readonly offset: number | undefined;
  readonly issues: readonly InputIssue[];

  constructor(issues: readonly InputIssue[]) {
    const first = issues[0];
    if (!first) throw new TypeError('InvalidInputError needs at least one issue');
    super(`${first.path}: ${first.message}`);
    this.name = 'InvalidInputError';
    this.path = first.path;
    this.segments = first.segments;
    this.offset = first.offset;
    this.issues = issues;
  }
}

/**
 * A valid transformer could not render one event (e.g. a value JSON cannot represent).
 * It concerns that event only: the router dead-letters it instead of retrying.
 */
export class InputTransformError extends Error {
  readonly code = 'FUZE_INPUT_TRANSFORM_FAILED';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InputTransformError';
  }
}

export function isInvalidInputError(err: unknown): err is InvalidInputError {
  return err instanceof InvalidInputError;
}

export function isInputTransformError(err: unknown): err is InputTransformError {
  return err instanceof InputTransformError;
}

/** Gathers issues so a spec reports all its problems at once. */
export class InputIssues {
  readonly list: InputIssue[] = [];

  add(segments: FieldPath, message: string, offset?: number): void {
    const issue: InputIssue = { path: formatFieldPath(segments), segments, message };
    this.list.push(offset === undefined ? issue : { ...issue, offset });
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new InvalidInputError(this.list);
  }
}
