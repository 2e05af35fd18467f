// Every message that crosses a process, each with its encode/decode pair.
export {
  type DeadLetterRecord,
  type DeliveryFailure,
  deadLetterId,
  decodeDeadLetterMessage,
  encodeDeadLetterMessage,
  MalformedDeadLetterError,
  maxResponseExcerptBytes,
  routerDeadLetterTarget,
} from './dead-letter-message.js';
export {
  cloudEventsJson,
  type DeliveryEnvelope,
  decodeDeliveryMessage,
  deliveredCloudEvent,
  deliveryHeaders,
  deliveryMessageId,
  encodeDeliveryHeaders,
  encodeDeliveryMessage,
  eventAttributes,
  type HeaderReader,
  type ReplayMarker,
} from './delivery-message.js';
export { decodeEventMessage, encodeEventMessage, eventMessageText, parseEventText } from './event-message.js';
export {
  decodeRulesChangedNotice,
  encodeRulesChangedNotice,
  type RulesChangedNotice,
  rulesChangedSubject,
} from './rules-changed-notice.js';
export type { TimerEventTemplate } from './timer-event.js';
export type { WireMessage } from './wire-message.js';
