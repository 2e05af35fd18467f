import { type ErrorCode, errorCodes } from './codes.js';

/**
 * The one error type Fuze throws for anything a user or operator can act on.
 * `code` is stable (never reused once retired); `statusCode` is what an HTTP API answers with.
 */
export class FuzeError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Extra, machine-readable facts (the offending field, the bad value, per-entry problems...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = errorCodes[code].name;
    this.code = code;
    this.statusCode = errorCodes[code].status;
    this.details = Object.freeze({ ...options.details });
  }
}

export function isFuzeError(err: unknown, code?: ErrorCode): err is FuzeError {
  return err instanceof FuzeError && (code === undefined || err.code === code);
}
