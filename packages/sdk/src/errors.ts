import { type ErrorCode, type EventProblem, FuzeError, isFuzeError } from '@fuze/core';

/**
 * The bus refused the event itself: a malformed envelope, data failing its schema, too large...
 * Publishing it again unchanged gets the same answer. `problems` names each offending
 * attribute or JSON path (`source`, `data.total`).
 */
export class PublishRejectedError extends FuzeError {
  readonly problems: readonly EventProblem[];

  constructor(
    code: ErrorCode,
    message: string,
    options: { problems?: readonly EventProblem[]; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const problems = options.problems ?? [];
    super(code, message, { cause: options.cause, details: { ...options.details, problems } });
    this.name = 'PublishRejectedError';
    this.problems = problems;
  }

  /** The same FuzeError, as a rejection carrying its `details.problems`. */
  static from(err: FuzeError): PublishRejectedError {
    if (err instanceof PublishRejectedError) return err;
    const { problems, ...details } = err.details as { problems?: EventProblem[] };
    return new PublishRejectedError(err.code, err.message, { problems, cause: err.cause, details });
  }
}

export function isPublishRejected(err: unknown): err is PublishRejectedError {
  return err instanceof PublishRejectedError;
}

/** 401 and 403 concern every event alike: a batch throws them rather than failing each entry. */
export function concernsEveryEvent(err: FuzeError): boolean {
  return err.code === 'FUZE_UNAUTHORIZED' || err.code === 'FUZE_FORBIDDEN';
}

/** Any thrown value as a FuzeError, keeping the original as `cause`. */
export function asFuzeError(err: unknown): FuzeError {
  if (isFuzeError(err)) return err;
  return new FuzeError('FUZE_PUBLISH_FAILED', `publish failed: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}
