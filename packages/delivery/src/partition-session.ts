// Over 300 lines: one consumption's state machine (take, hold, process, settle, watch) shares
// its fields throughout; split, each part would reach into the others' state.
import { setMaxListeners } from 'node:events';
import { failoverRequestTimeoutMs, type LeaseFence, pullHeartbeatMs } from '@fuze/bus';
import {
  type DeliveryEnvelope,
  decodeDeliveryMessage,
  deliveryHeaders,
  type HeaderReader,
  type Logger,
} from '@fuze/core';
import type { ConsumerInfo, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { AckedMessages } from './acked-by-partition.js';
import type { Delivery, DeliveryHandler } from './delivery.js';
import { isDeliveryAborted } from './errors.js';
import { headerReader } from './header-reader.js';
import { KeyedQueue } from './keyed-queue.js';
import type { DeliveryTuning } from './tuning.js';

export interface SessionOptions {
  js: JetStreamClient;
  target: string;
  partition: number | 'unordered';
  /**
   * `exclusive`: this worker alone consumes the partition; per-key order is kept and any sign of a
   * lost message (a delivery-sequence gap, a redelivery it never saw) ends the session so the
   * partition restarts from its ack floor. `shared`: the unordered subject, every message its own key.
   */
  mode: 'exclusive' | 'shared';
  /** The partition's lease, checked before each attempt (in the pipeline) and each ack (here). */
  fence: LeaseFence;
  handler: DeliveryHandler;
  tuning: DeliveryTuning;
  /** What was acked recently, kept across sessions: a redelivery of it is re-acked, not re-sent. */
  acked: AckedMessages;
  /** Told each ack the consumer's leader confirmed (see LostAckRepair). */
  ackConfirmed?: (streamSequence: number) => void;
  logger: Logger;
}

// An ack sent to a consumer whose leader just died is never answered: the session restarts as
// soon as JetStream could answer (see failoverRequestTimeoutMs), not after 5 s.
const ackConfirmTimeoutMs = failoverRequestTimeoutMs;
const comingBackWaitMs = 2_000;
/** Where a delivery carries its id (deliveryMessageId), as JetStream's dedupe reads it. */
const deliveryIdHeader = 'Nats-Msg-Id';

interface Held {
  msg: JsMsg;
  headers: HeaderReader;
  touchedAt: number;
}

/**
 * One consumption of one delivery subject, from the consumer just created to `close()`:
 * messages are held in memory until settled, run through the handler one at a time per key, and
 * kept alive with `working()` while they wait. `ended` resolves (with a reason) when the session
 * cannot go on; the supervisor then closes it and opens a new one.
 */
export class PartitionSession {
  readonly ended: Promise<string>;
  private endWith: (reason: string) => void = () => {};
  private readonly held = new Map<number, Held>();
  private readonly queue: KeyedQueue<JsMsg>;
  private readonly soft = new AbortController();
  private readonly hard = new AbortController();
  private messages: ConsumerMessages | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private expectedDeliverySeq = 1;
  private closing = false;
  /**
   * Exclusive sessions on a consumer with unacked messages: those come back first (the
   * consumer's redelivery queue goes before new messages), but not always in stream order, so
   * they are held here until all have come, then queued lowest sequence first.
   */
  private comingBack:
    | { upTo: number; remaining: number; messages: JsMsg[]; timer?: NodeJS.Timeout }
    | undefined;

  constructor(private readonly options: SessionOptions) {
    this.ended = new Promise((resolve) => {
      this.endWith = resolve;
    });
    // Every waiting retry and queued attempt listens to these: many listeners are expected.
    setMaxListeners(0, this.soft.signal, this.hard.signal);
    this.queue = new KeyedQueue(
      (msg) => this.process(msg),
      (abandoned) => this.forget(abandoned),
    );
  }

  async open(info: ConsumerInfo): Promise<void> {
    const consumer = this.options.js.consumers.getConsumerFromInfo(info);
    if (this.options.mode === 'exclusive') {
      this.expectedDeliverySeq = info.delivered.consumer_seq + 1;
      if (info.num_ack_pending > 0) {
        this.comingBack = { upTo: info.delivered.stream_seq, remaining: info.num_ack_pending, messages: [] };
        this.awaitComingBack();
      }
    }
    this.messages = await consumer.consume({
      max_messages: this.options.tuning.pullBatch,
      expires: this.options.tuning.pullExpiresMs,
      idle_heartbeat: Math.min(pullHeartbeatMs, this.options.tuning.pullExpiresMs / 2),
      callback: (msg) => this.onMessage(msg),
    });
    void this.watch(this.messages);
    // nats.js stops a consume on errors it deems terminal: never sit on a partition that no longer flows.
    void this.messages
      .closed()
      .then((err) => this.endWith(`consumption stopped${err ? `: ${err.message}` : ''}`));
    const every = Math.max(100, Math.floor(this.options.tuning.ackWaitMs / 3));
    this.heartbeat = setInterval(() => this.keepAlive(every), every);
  }

  /** Stops pulling, lets running attempts finish within `graceMs`, then aborts what is left. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    clearTimeout(this.comingBack?.timer);
    this.endWith('closed');
    this.messages?.stop();
    this.forget(this.queue.clear());
    this.soft.abort();
    await settleWithin(this.queue.idle(), graceMs);
    this.hard.abort();
    await settleWithin(this.queue.idle(), graceMs);
    clearInterval(this.heartbeat);
  }

  private onMessage(msg: JsMsg): void {
    if (this.closing) return;
    try {
      this.take(msg);
    } catch (err) {
      this.options.logger.error(
        { err, target: this.options.target, partition: this.options.partition },
        'cannot take a delivery',
      );
      this.endWith('a delivery could not be taken');
    }
  }

  private take(msg: JsMsg): void {
    const { deliverySequence, deliveryCount, streamSequence } = msg.info;
    const exclusive = this.options.mode === 'exclusive';
    if (exclusive) {
      if (deliverySequence !== this.expectedDeliverySeq) {
        this.endWith(`delivery sequence gap: expected ${this.expectedDeliverySeq}, got ${deliverySequence}`);
        return;
      }
      this.expectedDeliverySeq = deliverySequence + 1;
    }
    const comingBack = exclusive ? this.comingBack : undefined;
    if (comingBack && streamSequence <= comingBack.upTo) comingBack.remaining -= 1;
    else if (comingBack) this.releaseComingBack(); // a new message: the redelivery queue is empty
    const held = this.held.get(streamSequence);
    if (held) {
      held.msg = msg; // JetStream redelivered what we still hold (ack wait expired while away)
      return;
    }
    if (this.options.acked.has(streamSequence, msg.headers?.get(deliveryIdHeader))) {
      msg.ack(); // our ack was lost, or the delivery was stored again: settle it rather than deliver twice
      return;
    }
    if (exclusive && deliveryCount > 1 && !(comingBack && streamSequence <= comingBack.upTo)) {
      this.endWith(`redelivery of stream sequence ${streamSequence}, never received here`);
      return;
    }
    const headers = headerReader(msg.headers);
    this.held.set(streamSequence, { msg, headers, touchedAt: Date.now() });
    if (comingBack && streamSequence <= comingBack.upTo) {
      comingBack.messages.push(msg);
      if (comingBack.remaining <= 0) this.releaseComingBack();
      else this.awaitComingBack();
      return;
    }
    this.enqueue(msg, headers);
  }

  private enqueue(msg: JsMsg, headers: HeaderReader): void {
    const key =
      this.options.mode === 'exclusive'
        ? headers.get(deliveryHeaders.partitionKey)
        : `#${msg.info.streamSequence}`;
    this.queue.push(key, msg);
  }

  /**
   * Gives the redeliveries a moment to come: a message pending at open may never come back (its
   * stream message removed meanwhile), and with no new message behind it nothing else ends the wait.
   */
  private awaitComingBack(): void {
    const comingBack = this.comingBack;
    if (!comingBack) return;
    clearTimeout(comingBack.timer);
    comingBack.timer = setTimeout(() => this.releaseComingBack(), comingBackWaitMs);
  }

  private releaseComingBack(): void {
    const comingBack = this.comingBack;
    if (!comingBack) return;
    this.comingBack = undefined;
    clearTimeout(comingBack.timer);
    if (this.closing) return;
    comingBack.messages.sort((a, b) => a.info.streamSequence - b.info.streamSequence);
    for (const msg of comingBack.messages) {
      const held = this.held.get(msg.info.streamSequence);
      if (held) this.enqueue(held.msg, held.headers);
    }
  }

  private async process(msg: JsMsg): Promise<boolean> {
    const { mode, target, partition, handler, acked, logger, fence } = this.options;
    const { streamSequence, deliveryCount } = msg.info;
    let envelope: DeliveryEnvelope;
    let problem: string | undefined;
    const headers = this.held.get(streamSequence)?.headers ?? headerReader(msg.headers);
    try {
      envelope = decodeDeliveryMessage(headers, msg.data);
    } catch (err) {
      problem = `malformed delivery message: ${(err as Error).message}`;
      envelope = {
        attributes: {},
        body: msg.data,
        contentType: 'application/octet-stream',
        bus: '',
        rule: '',
        target,
        acceptedAt: 0,
      };
    }
    const delivery: Delivery = {
      envelope,
      ...(problem ? { problem } : {}),
      target,
      partition,
      streamSeq: streamSequence,
      subject: msg.subject,
      headers,
      attempts: mode === 'shared' ? deliveryCount - 1 : 0,
      firstAttemptAt: undefined,
      lastAttemptAt: undefined,
      stopping: this.soft.signal,
      signal: this.hard.signal,
      fence,
    };
    try {
      await handler(delivery);
    } catch (err) {
      if (!isDeliveryAborted(err))
        logger.error({ err, target, partition, streamSeq: delivery.streamSeq }, 'delivery left unsettled');
      this.forget([msg]);
      // Ordered: its key must not move on without it, so restart the partition from its ack floor.
      if (!this.closing && mode === 'exclusive') this.endWith('a delivery was left unsettled');
      return false;
    }
    if (!fence.maySettle()) {
      // Done, but the lease cannot be confirmed: the next owner may be at it already, and an
      // ack now could remove a message it still holds. It redelivers this one instead.
      this.forget([msg]);
      this.endWith("the partition's lease can no longer be confirmed");
      return false;
    }
    const current = this.held.get(delivery.streamSeq)?.msg ?? msg;
    this.held.delete(delivery.streamSeq);
    acked.add(delivery.streamSeq, current.headers?.get(deliveryIdHeader));
    if (mode === 'shared') {
      current.ack();
      return true;
    }
    // The key's next event waits until the consumer's leader confirms this ack: an ack lost on
    // the way would leave this event below the ack floor, and a new owner would redeliver it
    // after the newer one. A PING/PONG to our own server is not enough: in a cluster, acks to
    // a consumer whose leader had just died were lost after the PONG (50 stale deliveries in
    // the lease-leader drill). (A redelivery to this worker is re-acked from `acked`.)
    const confirmed = await current.ackAck({ timeout: ackConfirmTimeoutMs }).catch(() => false);
    if (confirmed) this.options.ackConfirmed?.(streamSequence);
    if (!confirmed && !this.closing)
      this.endWith(`the ack of stream sequence ${streamSequence} was not confirmed`);
    return confirmed;
  }

  /** Messages this session gives up: shared ones go back to the others at once. */
  private forget(messages: JsMsg[]): void {
    for (const msg of messages) {
      const seq = msg.info.streamSequence;
      const held = this.held.get(seq);
      this.held.delete(seq);
      if (this.options.mode === 'shared') (held?.msg ?? msg).nak();
    }
  }

  private keepAlive(every: number): void {
    // Fenced: the next owner has these messages redelivered; keeping them alive would only delay that.
    if (!this.options.fence.maySettle()) return;
    const due = Date.now() - every;
    for (const held of this.held.values()) {
      if (held.touchedAt > due) continue;
      held.msg.working();
      held.touchedAt = Date.now();
    }
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      this.options.logger.debug(
        { target: this.options.target, partition: this.options.partition, status: status.type },
        'pull status',
      );
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
        this.endWith('consumer deleted');
        return;
      }
      // Two heartbeats missed: the pull went to a leader that is gone (see pullHeartbeatMs).
      if (status.type === 'heartbeats_missed') {
        this.endWith('pulls unanswered (the consumer may be electing a leader)');
        return;
      }
    }
  }
}

async function settleWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
