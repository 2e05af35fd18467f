import type { EventProblem } from '../cloudevent/validate-event.js';
import { type ErrorCode, errorCodes } from './codes.js';

/** What a client learns from a Fuze error answer. */
export interface ProblemAnswer {
  /** The answer's `code`, or `fallbackCode(status)` when it has none Fuze knows. */
  code: ErrorCode;
  /** The answer's `detail`, if it has one. */
  detail: string | undefined;
  /** The answer's `errors`: one entry per field or attribute at fault. */
  problems: EventProblem[];
}

/**
 * Reads an HTTP error answer of a Fuze API: RFC 9457 problem+json (docs/errors.md), or whatever a
 * proxy in front of it sent. The one reader of problem answers, for every Fuze client.
 */
export function readProblemAnswer(
  status: number,
  body: unknown,
  fallbackCode: (status: number) => ErrorCode,
): ProblemAnswer {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = isErrorCode(problem.code) ? problem.code : fallbackCode(status);
  const detail = typeof problem.detail === 'string' ? problem.detail : undefined;
  return { code, detail, problems: problemsOf(problem.errors) };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value);
}

function problemsOf(errors: unknown): EventProblem[] {
  if (!Array.isArray(errors)) return [];
  return errors.map((e: { pointer?: unknown; message?: unknown } | null) => ({
    pointer: String(e?.pointer ?? ''),
    message: String(e?.message ?? ''),
  }));
}
