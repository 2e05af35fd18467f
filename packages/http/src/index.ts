export {
  type Authenticator,
  apiKeyTokenPattern,
  createTokenAuthenticator,
  hashSecret,
  type StoredApiKey,
} from './authenticator.js';
export { bearerAuth, missingScope, requireScope } from './bearer-auth.js';
export { createHttpApp } from './create-app.js';
export { healthRoutes, type ReadinessProbe } from './health-routes.js';
export { issueApiKey } from './issue-api-key.js';
export {
  fromFastifyError,
  type ProblemDetails,
  problemDetails,
  sendProblem,
  toProblem,
} from './problem-details.js';
export { hasScope, type Principal, type Scope, scopes } from './scopes.js';
