import { type ErrorCode, errorCodes, FuzeError } from '@fuze/core';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

/** RFC 9457 problem details, with Fuze's stable `code` and, where useful, per-field `errors`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: Array<{ pointer: string; message: string }>;
  [extension: string]: unknown;
}

/** An error's details become extension members; they never replace the members RFC 9457 and Fuze define. */
export function toProblem(err: FuzeError): ProblemDetails {
  const { problems, ...rest } = err.details as { problems?: ProblemDetails['errors'] };
  return {
    ...rest,
    type: `https://fuze.dev/errors#${err.code}`,
    title: errorCodes[err.code].summary,
    status: err.statusCode,
    detail: err.message,
    code: err.code,
    ...(problems ? { errors: problems } : {}),
  };
}

/**
 * A FuzeError with `details.retryAfterSeconds` (a 503 the client should retry) also sets the
 * Retry-After header.
 */
export function sendProblem(reply: FastifyReply, err: FuzeError): FastifyReply {
  const retryAfter = (err.details as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  return reply.code(err.statusCode).type('application/problem+json').send(toProblem(err));
}

/** Maps fastify's own errors (bad JSON, body too large, schema validation) onto Fuze codes. */
export function fromFastifyError(err: FastifyError): FuzeError {
  if (err instanceof FuzeError) return err;
  if (err.validation) {
    const problems = err.validation.map((v) => ({
      pointer: [err.validationContext, ...v.instancePath.split('/').filter(Boolean)]
        .concat(v.keyword === 'required' ? [String(v.params.missingProperty)] : [])
        .join('.'),
      message: v.message ?? v.keyword,
    }));
    return new FuzeError(
      'FUZE_INVALID_REQUEST',
      problems.map((p) => `${p.pointer}: ${p.message}`).join('; '),
      { details: { problems } },
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FuzeError('FUZE_MALFORMED_JSON', `the body is not valid JSON: ${err.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // The gateway refuses an event over FUZE_MAX_EVENT_BYTES itself (FUZE_EVENT_TOO_LARGE);
      // this is a whole request over its route's limit (1 MiB for the admin API).
      return new FuzeError(
        'FUZE_REQUEST_TOO_LARGE',
        `the request body is over the size limit: ${err.message}`,
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new FuzeError('FUZE_URI_TOO_LONG', 'a path parameter of the URL is over 1,024 characters');
    case 'FST_ERR_BAD_URL':
      return new FuzeError('FUZE_INVALID_REQUEST', `the URL is malformed: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FuzeError('FUZE_UNSUPPORTED_MEDIA_TYPE', err.message);
  }
  if (err instanceof SyntaxError)
    return new FuzeError('FUZE_MALFORMED_JSON', `the body is not valid JSON: ${err.message}`);
  const status = err.statusCode ?? 500;
  if (status === 404) return new FuzeError('FUZE_NOT_FOUND', err.message);
  if (status >= 400 && status < 500) return new FuzeError('FUZE_INVALID_REQUEST', err.message);
  return new FuzeError('FUZE_PUBLISH_FAILED', 'internal error', { cause: err });
}

/** Every error leaves as application/problem+json; unexpected ones are logged, not leaked. */
export const problemDetails = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const fuzeError = fromFastifyError(err);
      if (fuzeError.statusCode >= 500 && !(err instanceof FuzeError)) {
        request.log.error({ err }, 'unhandled error');
        return reply.code(500).type('application/problem+json').send({
          type: 'about:blank',
          title: 'Internal Server Error',
          status: 500,
          detail: 'see the server log',
        });
      }
      return sendProblem(reply, fuzeError);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, new FuzeError('FUZE_NOT_FOUND', `no route ${request.method} ${request.url}`)),
    );
  },
  { name: 'fuze-problem-details' },
);
