import { deliverySubject } from '@fuze/core';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { DeliveryTuning } from './tuning.js';

/** `<P>_DLV_<target>_<partition>`: the durable of one delivery subject. */
export function deliveryConsumerName(
  prefix: string,
  target: string,
  partition: number | 'unordered',
): string {
  return `${prefix}_DLV_${target}_${partition}`;
}

export interface DeliveryConsumerSpec {
  stream: string;
  prefix: string;
  target: string;
  partition: number | 'unordered';
  tuning: DeliveryTuning;
}

function consumerConfig(spec: DeliveryConsumerSpec): Partial<ConsumerConfig> {
  const name = deliveryConsumerName(spec.prefix, spec.target, spec.partition);
  return {
    durable_name: name,
    description:
      spec.partition === 'unordered'
        ? `Fuze: unordered deliveries of target ${spec.target}, shared by every worker`
        : `Fuze: partition ${spec.partition} of target ${spec.target}, recreated by each new lease owner`,
    filter_subject: deliverySubject(spec.prefix, spec.target, spec.partition),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.tuning.ackWaitMs),
    max_ack_pending: spec.tuning.maxAckPending,
    // Retries are ours (one policy, one counter): JetStream only redelivers what a worker lost.
    max_deliver: -1,
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}

/**
 * The consumer of an ordered partition, created afresh for its new owner. On a work-queue stream
 * an acked message is gone, so a new durable with deliver policy `all` starts exactly at the old
 * ack floor: whatever a previous owner left unacked comes first, in stream order, then the rest.
 * Deleting the old durable also fences its previous owner: its pending pulls die with it.
 */
export async function recreatePartitionConsumer(
  jsm: JetStreamManager,
  spec: DeliveryConsumerSpec,
): Promise<ConsumerInfo> {
  const config = consumerConfig(spec);
  try {
    await jsm.consumers.delete(spec.stream, config.durable_name!);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return jsm.consumers.add(spec.stream, config);
}

/** The unordered subject's durable, shared by every worker: created once, settings kept current. */
export async function ensureSharedConsumer(
  jsm: JetStreamManager,
  spec: DeliveryConsumerSpec,
): Promise<ConsumerInfo> {
  const config = consumerConfig(spec);
  let current: ConsumerInfo;
  try {
    current = await jsm.consumers.info(spec.stream, config.durable_name!);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return jsm.consumers.add(spec.stream, config);
  }
  if (
    current.config.ack_wait === config.ack_wait &&
    current.config.max_ack_pending === config.max_ack_pending
  )
    return current;
  return jsm.consumers.update(spec.stream, config.durable_name!, {
    ack_wait: config.ack_wait!,
    max_ack_pending: config.max_ack_pending!,
    description: config.description!,
  });
}
