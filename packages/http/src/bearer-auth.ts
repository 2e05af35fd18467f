import { FuzeError } from '@fuze/core';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerHookHandler,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Authenticator } from './authenticator.js';
import { hasScope, type Principal, type Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    authenticator: Authenticator;
  }
}

const anonymous: Principal = { id: 'anonymous', scopes: 'all' };

/** Decorates the app with the authenticator; routes opt in with `requireScope(scope)`. */
export const bearerAuth = fp(
  async (app: FastifyInstance, options: { authenticator: Authenticator }) => {
    app.decorate('authenticator', options.authenticator);
    app.decorateRequest('principal', undefined);
  },
  { name: 'fuze-bearer-auth' },
);

/**
 * A preHandler: 401 without a valid token, 403 when the token lacks `scope`.
 * Callback style, not async: with auth off (the common embedded case) it costs no promise per request.
 */
export function requireScope(scope: Scope, ...orScopes: Scope[]): preHandlerHookHandler {
  const accepted = [scope, ...orScopes];
  return function checkScope(
    this: FastifyInstance,
    request: FastifyRequest,
    _reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) {
    const authenticator = this.authenticator;
    if (!authenticator.required) {
      request.principal = anonymous;
      done();
      return;
    }
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (!token) {
      done(
        new FuzeError(
          'FUZE_UNAUTHORIZED',
          'send `Authorization: Bearer <token>` (FUZE_ADMIN_TOKEN or an API key)',
        ),
      );
      return;
    }
    authenticator.authenticate(token).then((principal) => {
      if (!principal) {
        done(
          new FuzeError('FUZE_UNAUTHORIZED', 'the bearer token is not valid (unknown, revoked or mistyped)'),
        );
      } else if (!accepted.some((s) => hasScope(principal, s))) {
        done(missingScope(scope, orScopes));
      } else {
        request.principal = principal;
        done();
      }
    }, done);
  };
}

/** The 403 for a token without the scope a request needs (or any of its alternatives). */
export function missingScope(scope: Scope, orScopes: readonly Scope[] = []): FuzeError {
  const named = [scope, ...orScopes].map((s) => `"${s}"`).join(' or ');
  return new FuzeError(
    'FUZE_FORBIDDEN',
    `this token lacks the ${named} scope needed here; use a key that has it`,
    { details: { requiredScope: scope, ...(orScopes.length > 0 ? { orScopes } : {}) } },
  );
}

/**
 * The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive (RFC 9110
 * section 11.1): `bearer` and `BEARER` are the same scheme.
 */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^bearer[ \t]+(\S.*)$/i.exec(header.trim());
  return match?.[1]?.trim();
}
