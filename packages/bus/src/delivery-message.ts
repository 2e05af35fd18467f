import {
  type DeliveryEnvelope,
  deliveryMessageId,
  deliverySubject,
  encodeDeliveryHeaders,
  partitionFor,
} from '@fuze/core';
import type { PublishRequest } from './publisher.js';

/**
 * The delivery-stream message for an envelope, as the router and a DLQ replay publish it: the
 * key's partition of the target (of `partitions`), or `unordered` without a key; a Nats-Msg-Id per
 * event, rule, target (and replay job), so a re-sent delivery is deduplicated; and an ordering key,
 * so the publisher never stores one key's deliveries out of order.
 */
export function deliveryPublishRequest(
  prefix: string,
  envelope: DeliveryEnvelope,
  partitions: number,
): PublishRequest & { headers: Record<string, string> } {
  const event = { source: envelope.attributes.source ?? '', id: envelope.attributes.id ?? '' };
  const key = envelope.partitionKey;
  const subject = deliverySubject(
    prefix,
    envelope.target,
    key === undefined ? 'unordered' : partitionFor(key, partitions),
  );
  return {
    subject,
    payload: envelope.body,
    msgId: deliveryMessageId(event, envelope.rule, envelope.target, envelope.replay?.jobId),
    headers: encodeDeliveryHeaders(envelope),
    // One key's deliveries are stored in the order they were routed.
    ...(key === undefined ? {} : { orderingKey: `${subject} ${key}` }),
  };
}
