import {
  busOfDelayedSubject,
  type CloudEventRecord,
  delayedConsumerName,
  deliverAtHeader,
  type Logger,
} from '@fuze/core';
import { type FuzeDb, type HeldEvent, holdEvents } from '@fuze/db';
import { heldEventTimerKey } from '@fuze/timers';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { SchedulerStats } from './scheduler-stats.js';

export interface DelayedIntakeOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  db: FuzeDb;
  streamPrefix: string;
  /** The delayed stream (`<P>_DELAYED`). */
  stream: string;
  logger: Logger;
  stats: SchedulerStats;
  /** Messages stored per transaction. Default 500. */
  batchSize?: number;
}

const MAX_ACK_PENDING = 5_000;

/**
 * Takes events held for delayed delivery off the delayed stream (a work queue, one durable pull
 * consumer shared by every scheduler instance) and stores each as a one-shot timer keyed by the
 * event's source+id, acking a message only after the transaction that stored it committed. A
 * redelivered message finds its timer already there and changes nothing, so a held event enters
 * the bus once, at its time, with its own id (Nats-Msg-Id = eventMessageId(source, id)).
 */
export class DelayedIntake {
  private readonly buffer: JsMsg[] = [];
  private readonly batchSize: number;
  private messages: ConsumerMessages | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;

  constructor(private readonly options: DelayedIntakeOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  async start(): Promise<void> {
    const name = delayedConsumerName(this.options.streamPrefix);
    await this.ensureConsumer(name);
    const consumer = await this.options.js.consumers.get(this.options.stream, name);
    this.messages = await consumer.consume({
      max_messages: MAX_ACK_PENDING,
      callback: (msg) => this.onMessage(msg),
    });
  }

  /** Stops pulling, stores what was already received, and acks it. */
  async stop(): Promise<void> {
    await this.messages?.close();
    this.flushing = this.flushing.then(() => this.flush());
    await this.flushing;
  }

  private async ensureConsumer(name: string): Promise<void> {
    const config = {
      durable_name: name,
      description: 'Fuze scheduler: stores held events as timers',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_ack_pending: MAX_ACK_PENDING,
    };
    try {
      await this.options.jsm.consumers.info(this.options.stream, name);
      await this.options.jsm.consumers.update(this.options.stream, name, {
        description: config.description,
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
      await this.options.jsm.consumers.add(this.options.stream, config);
    }
  }

  /** Messages that arrive together are stored together: one flush per turn of the event loop. */
  private onMessage(msg: JsMsg): void {
    this.buffer.push(msg);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      await this.store(batch);
    }
  }

  private async store(batch: JsMsg[]): Promise<void> {
    const held: HeldEvent[] = [];
    const accepted: JsMsg[] = [];
    for (const msg of batch) {
      const event = this.read(msg);
      if (!event) continue;
      held.push(event);
      accepted.push(msg);
    }
    try {
      const inserted = await holdEvents(this.options.db, held);
      this.options.stats.heldEvents += inserted;
      for (const msg of accepted) msg.ack();
    } catch (err) {
      this.options.logger.warn(
        { err, messages: accepted.length },
        'could not store held events; they will be redelivered',
      );
      for (const msg of accepted) msg.nak(1_000);
    }
  }

  /** The held event of a message, or undefined (after terminating it) when it cannot be read. */
  private read(msg: JsMsg): HeldEvent | undefined {
    const bus = busOfDelayedSubject(this.options.streamPrefix, msg.subject);
    const atMs = Date.parse(msg.headers?.get(deliverAtHeader) ?? '');
    let event: CloudEventRecord | undefined;
    try {
      event = msg.json<CloudEventRecord>();
    } catch {
      event = undefined;
    }
    if (
      bus === undefined ||
      Number.isNaN(atMs) ||
      !event ||
      typeof event.id !== 'string' ||
      typeof event.source !== 'string' ||
      typeof event.type !== 'string'
    ) {
      this.options.logger.error(
        { subject: msg.subject, seq: msg.seq },
        `a message on the delayed stream is not a held event (a CloudEvent with a ${deliverAtHeader} header); dropped`,
      );
      msg.term();
      return undefined;
    }
    return {
      key: heldEventTimerKey(event.source, event.id),
      bus,
      event,
      atMs,
      traceparent: typeof event.traceparent === 'string' ? event.traceparent : undefined,
    };
  }
}
