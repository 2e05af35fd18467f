import type { ServiceContext } from '@fuze/runtime';

/**
 * The JetStream handles the DLQ code uses, typed through the runtime's service context (the
 * admin service gets them from there; it has no direct dependency on the JetStream client).
 */
export type JetStreamManager = ServiceContext['jsm'];
export type JetStreamClient = ServiceContext['js'];
/** Publishes with a Nats-Msg-Id and resolves once JetStream stored the message. */
export type Publisher = Pick<ServiceContext['publisher'], 'publish'>;
export type PublishRequest = Parameters<Publisher['publish']>[0];

/** JetStream API error codes (`err_code`) the DLQ code tells apart. */
const apiCodes = { consumerNotFound: 10014, noMessageFound: 10037 } as const;

function apiCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** "no message found": the sequence was deleted or has expired. */
export function isNoMessageFound(err: unknown): boolean {
  return apiCode(err) === apiCodes.noMessageFound;
}

export function isConsumerNotFound(err: unknown): boolean {
  return apiCode(err) === apiCodes.consumerNotFound;
}
