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
import { type NatsConnection, nanos } from '@nats-io/transport-node';
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
        : `Fuze: partition ${spec.partition} of target ${spec.target}, consumed by its lease owner`,
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
 * The durable of an ordered partition, kept from one lease owner to the next: its acks and
 * position live in the consumer's own Raft group. (Recreating it for each owner made the new one
 * start at the stream's first message, and on NATS 2.9 a work-queue stream's replica that missed
 * acks while its node was down still holds those messages: acked events came back, older after
 * newer, when that replica led the stream.) What a previous owner left delivered but unacked is
 * sent back to the redelivery queue at once, in stream order, so it comes before anything newer
 * (see `redeliverPending`); the session reorders it (see PartitionSession).
 */
export async function openPartitionConsumer(
  nc: NatsConnection,
  jsm: JetStreamManager,
  spec: DeliveryConsumerSpec,
): Promise<ConsumerInfo> {
  const config = consumerConfig(spec);
  const name = config.durable_name!;
  let info: ConsumerInfo;
  try {
    info = await jsm.consumers.info(spec.stream, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return jsm.consumers.add(spec.stream, config);
  }
  if (info.config.ack_wait !== config.ack_wait || info.config.max_ack_pending !== config.max_ack_pending)
    info = await jsm.consumers.update(spec.stream, name, {
      ack_wait: config.ack_wait!,
      max_ack_pending: config.max_ack_pending!,
      description: config.description!,
    });
  if (info.num_ack_pending > 0) await redeliverPending(nc, spec.stream, name, info);
  return info;
}

/**
 * Puts every message the consumer still waits an ack for back on its redelivery queue, lowest
 * stream sequence first, without waiting for their ack wait to run out: a NAK per sequence above
 * the ack floor, on the consumer's ack subject (the JetStream ack protocol,
 * `$JS.ACK.<stream>.<consumer>.<count>.<stream seq>.<consumer seq>.<time>.<pending>`). The server
 * ignores a NAK for a sequence not pending (acked already). The last one is a request: its answer
 * means the consumer leader has processed every NAK before it (one connection, one ack queue).
 */
export async function redeliverPending(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  info: ConsumerInfo,
): Promise<void> {
  const from = info.ack_floor.stream_seq + 1;
  const to = info.delivered.stream_seq;
  if (to < from) return;
  const subject = (seq: number) =>
    `$JS.ACK.${stream}.${consumer}.1.${seq}.${info.delivered.consumer_seq}.0.0`;
  for (let seq = from; seq < to; seq++) nc.publish(subject(seq), nak);
  await nc.request(subject(to), nak, { timeout: 5_000 });
}

const nak = new TextEncoder().encode('-NAK');

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
