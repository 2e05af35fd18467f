import { maxResponseExcerptBytes } from '@fuze/core';

export interface DeliveryErrorOptions {
  cause?: unknown;
  /** Wait at least this long before the next attempt (e.g. from `Retry-After`). */
  retryAfterMs?: number;
  httpStatus?: number;
  /** At most 1 KiB of what the target answered. */
  responseExcerpt?: string;
}

/**
 * A failed delivery attempt that knows what should happen next. Anything else a handler throws
 * counts as a retryable failure of class `err.name`.
 */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly httpStatus: number | undefined;
  readonly responseExcerpt: string | undefined;

  constructor(message: string, retryable: boolean, options: DeliveryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
    this.retryable = retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.httpStatus = options.httpStatus;
    this.responseExcerpt = options.responseExcerpt;
  }
}

/** Retrying cannot help (bad request, rejected payload): the event goes straight to the dead-letter stream. */
export class NonRetryableError extends DeliveryError {
  constructor(message: string, options: Omit<DeliveryErrorOptions, 'retryAfterMs'> = {}) {
    super(message, false, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * Retry, but not before `delay` (milliseconds, or a date). Counts as an attempt like any failure:
 * when the retry policy is exhausted the event is dead-lettered.
 */
export class RetryAfterError extends DeliveryError {
  constructor(
    delay: number | Date,
    message?: string,
    options: Omit<DeliveryErrorOptions, 'retryAfterMs'> = {},
  ) {
    const ms = delay instanceof Date ? delay.getTime() - Date.now() : delay;
    super(message ?? `retry after ${Math.max(0, Math.round(ms))} ms`, true, {
      ...options,
      retryAfterMs: Math.max(0, ms),
    });
    this.name = 'RetryAfterError';
  }
}

/** The worker gave the delivery up (partition released, shutdown): it is left unacked. */
export class DeliveryAbortedError extends Error {
  constructor(message = 'delivery abandoned: the worker is stopping') {
    super(message);
    this.name = 'DeliveryAbortedError';
  }
}

export function isDeliveryAborted(err: unknown): err is DeliveryAbortedError {
  return err instanceof DeliveryAbortedError;
}

/** What the retry and dead-letter middleware need to know about a failure. */
export interface FailureDescription {
  errorClass: string;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  httpStatus?: number;
  responseExcerpt?: string;
}

const maxMessageLength = 2_048;

export function describeFailure(err: unknown): FailureDescription {
  if (err instanceof DeliveryError) {
    return {
      errorClass: err.name,
      message: bounded(err.message),
      retryable: err.retryable,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
      ...(err.responseExcerpt !== undefined
        ? { responseExcerpt: truncateUtf8(err.responseExcerpt, maxResponseExcerptBytes) }
        : {}),
    };
  }
  if (err instanceof Error)
    return { errorClass: err.name || 'Error', message: bounded(err.message), retryable: true };
  return { errorClass: 'Error', message: bounded(String(err)), retryable: true };
}

function bounded(message: string): string {
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message;
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes` (never splits a character). */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes), { stream: true });
}
