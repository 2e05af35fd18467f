import { type ErrorCode, FuzeError, readProblemAnswer } from '@fuze/core';
import { PublishRejectedError } from './errors.js';

/**
 * The error a gateway answer stands for: its RFC 9457 problem (`code`, `detail`, `errors`) as a
 * FuzeError with the same code, or a PublishRejectedError when the event itself is at fault.
 */
export function errorFromProblem(status: number, body: unknown): FuzeError {
  const { code, detail, problems } = readProblemAnswer(status, body, fallbackCode);
  const message = detail ?? `the gateway answered ${status} (${code})`;
  if (isAboutTheEvent(status)) return new PublishRejectedError(code, message, { problems });
  return new FuzeError(code, message, { details: { status } });
}

/** 4xx blames the request, except a missing or weak token and a wrong URL, which blame the setup. */
function isAboutTheEvent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 404;
}

function fallbackCode(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'FUZE_UNAUTHORIZED';
    case 403:
      return 'FUZE_FORBIDDEN';
    case 404:
      return 'FUZE_NOT_FOUND';
    case 413:
      return 'FUZE_EVENT_TOO_LARGE';
    case 415:
      return 'FUZE_UNSUPPORTED_MEDIA_TYPE';
    case 504:
      return 'FUZE_PUBLISH_TIMEOUT';
    default:
      return status < 500 ? 'FUZE_INVALID_REQUEST' : 'FUZE_PUBLISH_FAILED';
  }
}
