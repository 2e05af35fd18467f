/**
 * Attribute names Fuze's spans use. Stable OTel names come from @opentelemetry/semantic-conventions;
 * the messaging and CloudEvents ones are still "development" there, and the OTel JS guidance is to
 * copy such names rather than import the `incubating` entry (which may break in a minor release).
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';

/** `nats`. Older backends read `messaging.system`; semconv 1.3x renamed it `messaging.system.name`: both are set. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
/** `send` (producer), `receive`, `process` (consumer), `settle` (ack, term). */
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
/** System-specific operation name, also the first word of the span name: `publish`, `process`, ... */
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
/** The NATS subject (high cardinality); the span name uses the logical destination (`fuze.events`, ...) instead. */
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_MESSAGE_BODY_SIZE = 'messaging.message.body.size';

export const ATTR_CLOUDEVENTS_EVENT_ID = 'cloudevents.event_id';
export const ATTR_CLOUDEVENTS_EVENT_SOURCE = 'cloudevents.event_source';
export const ATTR_CLOUDEVENTS_EVENT_TYPE = 'cloudevents.event_type';
export const ATTR_CLOUDEVENTS_EVENT_SUBJECT = 'cloudevents.event_subject';

// Fuze's own attributes.
export const ATTR_FUZE_BUS = 'fuze.bus';
/** Every rule an event matched (router span), as a string array. */
export const ATTR_FUZE_RULE_NAMES = 'fuze.rule.names';
export const ATTR_FUZE_RULE = 'fuze.rule';
export const ATTR_FUZE_TARGET = 'fuze.target';
export const ATTR_FUZE_DELIVERY_COUNT = 'fuze.delivery.count';
export const ATTR_FUZE_DEAD_LETTER_STAGE = 'fuze.dead_letter.stage';
export const ATTR_FUZE_DEAD_LETTER_ID = 'fuze.dead_letter.id';
export const ATTR_FUZE_REPLAY_JOB = 'fuze.replay.job';
export const ATTR_FUZE_TIMER_KEY = 'fuze.timer.key';
