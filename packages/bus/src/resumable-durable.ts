import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Checkpoint } from './checkpoint.js';

export interface ResumableDurableOptions {
  stream: string;
  name: string;
  filterSubject: string;
  ackWaitMs: number;
  maxAckPending: number;
  /** Where this consumer's processed position is kept: the durable never starts before it. */
  checkpoint: Checkpoint;
}

/**
 * Opens a durable pull consumer for a new owner of an ordered shard. If a previous owner left
 * messages delivered but unacked, the durable is recreated after its ack floor, so those
 * messages come back first and in stream order, before anything newer: a plain durable would
 * redeliver them only after ack_wait, behind newer messages, breaking per-key order.
 *
 * It never rewinds: the floor is the larger of the consumer's ack floor and the checkpoint, and
 * it is written to the checkpoint before the durable is deleted. A durable lost between the
 * delete and the add (a failover), or reported with an ack floor of 0 by a leader that has not
 * recovered its state, resumes after the checkpoint, not from the start of the stream.
 * Messages processed but unacked above the floor come again. Their republish is deduped by
 * Nats-Msg-Id, except after a nats-server restart when what they published was already consumed
 * from a work-queue stream: which is why the router acks only what its checkpoint covers.
 */
export async function openResumableDurable(
  jsm: JetStreamManager,
  js: JetStreamClient,
  options: ResumableDurableOptions,
): Promise<Consumer> {
  const base: Partial<ConsumerConfig> = {
    durable_name: options.name,
    filter_subject: options.filterSubject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWaitMs),
    max_ack_pending: options.maxAckPending,
  };
  const checkpoint = await options.checkpoint.read();
  const info = await consumerInfo(jsm, options.stream, options.name);
  const floor = Math.max(info?.ack_floor.stream_seq ?? 0, checkpoint);
  const startAfter = (position: number): Partial<ConsumerConfig> =>
    position > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: position + 1 }
      : { deliver_policy: DeliverPolicy.All };
  if (!info) {
    await jsm.consumers.add(options.stream, { ...base, ...startAfter(floor) });
  } else if (
    info.num_ack_pending > 0 ||
    info.config.filter_subject !== options.filterSubject ||
    // The consumer would hand out again what the checkpoint says was processed.
    info.delivered.stream_seq < checkpoint
  ) {
    await options.checkpoint.advance(floor);
    await jsm.consumers.delete(options.stream, options.name);
    await jsm.consumers.add(options.stream, { ...base, ...startAfter(floor) });
  } else if (info.config.ack_wait !== base.ack_wait || info.config.max_ack_pending !== base.max_ack_pending) {
    await jsm.consumers.update(options.stream, options.name, {
      ack_wait: base.ack_wait!,
      max_ack_pending: base.max_ack_pending!,
    });
  }
  return js.consumers.get(options.stream, options.name);
}

async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw err;
  }
}
