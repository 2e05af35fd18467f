import { DeliveryError } from '@fuze/delivery';

/** The target answered with a status other than 2xx. */
export class HttpStatusError extends DeliveryError {
  constructor(status: number, retryable: boolean, responseExcerpt: string, retryAfterMs?: number) {
    super(`target answered HTTP ${status}`, retryable, {
      httpStatus: status,
      responseExcerpt,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
    this.name = 'HttpStatusError';
  }
}

/** No answer within the target's timeout. Retried. */
export class TimeoutError extends DeliveryError {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`, true);
    this.name = 'TimeoutError';
  }
}

/** The request did not get through (refused, reset, DNS...). Retried. */
export class ConnectionError extends DeliveryError {
  constructor(message: string, cause: unknown) {
    super(message, true, { cause });
    this.name = 'ConnectionError';
  }
}

/** The target's `secretRef` names a secret this dispatcher does not have. Retried: an operator can add it. */
export class SecretMissingError extends DeliveryError {
  constructor(name: string, where: string) {
    super(`secret "${name}" not found (looked in ${where})`, true);
    this.name = 'SecretMissingError';
  }
}
