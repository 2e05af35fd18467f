import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export interface ResumableDurableOptions {
  stream: string;
  name: string;
  filterSubject: string;
  ackWaitMs: number;
  maxAckPending: number;
}

/**
 * Opens a durable pull consumer for a new owner of an ordered partition. If a previous owner
 * left messages delivered but unacked, the durable is recreated at its ack floor, so those
 * messages come back first and in stream order, before anything newer: a plain durable would
 * redeliver them only after ack_wait, behind newer messages, breaking per-key order.
 * (Acked messages above the floor may come again; their Nats-Msg-Id dedupes the republish.)
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
  let info: Awaited<ReturnType<JetStreamManager['consumers']['info']>> | undefined;
  try {
    info = await jsm.consumers.info(options.stream, options.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  if (!info) {
    await jsm.consumers.add(options.stream, { ...base, deliver_policy: DeliverPolicy.All });
  } else if (info.num_ack_pending > 0 || info.config.filter_subject !== options.filterSubject) {
    await jsm.consumers.delete(options.stream, options.name);
    await jsm.consumers.add(options.stream, {
      ...base,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.ack_floor.stream_seq + 1,
    });
  }
  return js.consumers.get(options.stream, options.name);
}
