import type { ServiceContext } from '@fuze/runtime';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

/** The JetStream handles the DLQ code uses, typed through the runtime's service context. */
export type JetStreamManager = ServiceContext['jsm'];
export type JetStreamClient = ServiceContext['js'];
/** Publishes with a Nats-Msg-Id and resolves once JetStream stored the message. */
export type Publisher = Pick<ServiceContext['publisher'], 'publish'>;
export type PublishRequest = Parameters<Publisher['publish']>[0];

/** "no message found": the sequence was deleted or has expired. */
export function isNoMessageFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound;
}

export function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}
