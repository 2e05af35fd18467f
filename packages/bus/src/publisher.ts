import { FuzeError, type WireMessage } from '@fuze/core';
import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { headerBlock } from './header-block.js';
import { PendingPublishes } from './pending-publishes.js';
import type { PublishAck } from './publish-ack.js';

export type { PublishAck } from './publish-ack.js';

const utf8 = new TextDecoder();

/** A message to store: the wire messages of @fuze/core's `messages` (subject, payload, ids, order). */
export type PublishRequest = WireMessage;

export interface PublisherOptions {
  /** How long to wait for one ack before sending the same message again. */
  ackTimeoutMs?: number;
  /** How long to keep retrying (same Nats-Msg-Id, so JetStream dedupes) before giving up. */
  giveUpAfterMs?: number;
  /** Publishes awaiting an ack at once; callers wait for room beyond this. */
  maxInFlight?: number;
}

/** Per publish: how long this one may take before it is given up (default: the publisher's). */
export interface PublishCallOptions {
  giveUpAfterMs?: number;
}

interface Pending {
  readonly token: number;
  readonly giveUpAfterMs: number;
  request: PublishRequest;
  headers: MsgHdrs;
  resolve(ack: PublishAck): void;
  reject(err: Error): void;
  sentAt: number;
  firstSentAt: number;
  lastError: string;
}

/**
 * Publishes to JetStream over core NATS with a reply inbox and matches the acks itself.
 *
 * Why not `js.publish`: it makes one request (a subscription and a promise chain) per message;
 * matching acks on one wildcard inbox subscription pipelines thousands of publishes and is ~4x
 * faster here (design.md). Resolves only once JetStream has stored the message; on a lost ack
 * (timeout, reconnect, 503 while JetStream restarts) it re-sends with the same Nats-Msg-Id.
 */
export class JetStreamPublisher {
  private readonly inbox = createInbox();
  private readonly subscription: Subscription;
  private readonly pending: PendingPublishes<Pending>;
  private readonly waitingForRoom: Array<() => void> = [];
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly ackTimeoutMs: number;
  private readonly giveUpAfterMs: number;
  private readonly maxInFlight: number;
  private nextToken = 0;
  private closed = false;
  private outbox: Pending[] = [];
  /** The latest publish of each ordering key still in flight. */
  private readonly keyTails = new Map<string, Promise<PublishAck>>();
  private outboxScheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    options: PublisherOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 30_000;
    this.maxInFlight = options.maxInFlight ?? 4_096;
    this.pending = new PendingPublishes(this.maxInFlight);
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onAck(msg) });
    // One sweep for all timeouts instead of a timer per message.
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(250, this.ackTimeoutMs / 4));
    this.sweepTimer.unref();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  publish(request: PublishRequest, options?: PublishCallOptions): Promise<PublishAck> {
    const key = request.orderingKey;
    if (key === undefined) return this.publishInTurn(request, options);
    const previous = this.keyTails.get(key);
    const result = previous
      ? previous.then(
          () => this.publishInTurn(request, options),
          (err: unknown) =>
            Promise.reject(
              new FuzeError(
                'FUZE_PUBLISH_FAILED',
                `${request.subject}: not sent, because an earlier publish of its ordering key failed`,
                { cause: err },
              ),
            ),
        )
      : this.publishInTurn(request, options);
    this.keyTails.set(key, result);
    const forget = () => {
      if (this.keyTails.get(key) === result) this.keyTails.delete(key);
    };
    result.then(forget, forget);
    return result;
  }

  private publishInTurn(request: PublishRequest, options?: PublishCallOptions): Promise<PublishAck> {
    if (this.closed) return Promise.reject(new FuzeError('FUZE_PUBLISH_FAILED', 'publisher is closed'));
    // FIFO: a new caller queues behind waiting ones, so publishes leave in call order
    // (the router relies on it to keep per-key order).
    if (this.pending.size >= this.maxInFlight || this.waitingForRoom.length > 0) {
      return new Promise<void>((resolve) => this.waitingForRoom.push(resolve)).then(() =>
        this.publishNow(request, options),
      );
    }
    return this.publishNow(request, options);
  }

  // Not async: the common path (room in flight) makes one promise per publish, not three.
  private publishNow(request: PublishRequest, options?: PublishCallOptions): Promise<PublishAck> {
    let headers: MsgHdrs;
    try {
      // Encoded once, here, so a header that cannot be sent fails this call, and re-sends reuse it.
      headers = headerBlock(request.msgId, request.headers);
    } catch (err) {
      // This caller may hold the room a settled publish made: pass it on, or the queue behind it stalls.
      this.letNextWaiterIn();
      return Promise.reject(err);
    }
    return new Promise<PublishAck>((resolve, reject) => {
      const now = Date.now();
      const pending: Pending = {
        token: this.nextToken++,
        giveUpAfterMs: options?.giveUpAfterMs ?? this.giveUpAfterMs,
        request,
        headers,
        resolve,
        reject,
        sentAt: now,
        firstSentAt: now,
        lastError: 'no ack yet',
      };
      this.pending.add(pending);
      this.enqueue(pending);
    });
  }

  /** Waits for every publish in flight to settle, then stops listening for acks. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 10));
    clearInterval(this.sweepTimer);
    this.subscription.unsubscribe();
  }

  /**
   * Sends queued publishes together once per event-loop turn: each nats.js publish made in its
   * own turn costs a socket write, which dominated the one-event-per-request HTTP path.
   * Order is kept: the outbox is FIFO.
   */
  private enqueue(pending: Pending): void {
    this.outbox.push(pending);
    if (this.outboxScheduled) return;
    this.outboxScheduled = true;
    setImmediate(() => {
      const batch = this.outbox;
      this.outbox = [];
      this.outboxScheduled = false;
      for (const p of batch) this.send(p);
    });
  }

  private send(pending: Pending): void {
    const { request } = pending;
    try {
      this.nc.publish(request.subject, request.payload, {
        reply: `${this.inbox}.${pending.token}`,
        headers: pending.headers,
      });
    } catch (err) {
      if (this.pending.get(pending.token) !== pending) return;
      if (/max.?payload/i.test((err as Error).message)) {
        // Too big for the server: no retry can help.
        this.settle(pending);
        pending.reject(
          new FuzeError('FUZE_PUBLISH_FAILED', `${request.subject}: ${(err as Error).message}`, {
            cause: err,
          }),
        );
        return;
      }
      // Closed connection or a full reconnect buffer: the sweep retries until giveUpAfterMs.
      pending.lastError = (err as Error).message;
    }
  }

  private onAck(msg: Msg): void {
    const pending = this.pending.get(Number(msg.subject.slice(this.inbox.length + 1)));
    if (!pending) return; // an ack for a message we already re-sent and settled
    if (msg.headers?.hasError) {
      // 503 = no responders: JetStream is not (yet) listening, e.g. while the server restarts.
      pending.lastError = `${msg.headers.code} ${msg.headers.description}`;
      this.resendSoon(pending);
      return;
    }
    let body: {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { code: number; err_code?: number; description: string };
    };
    try {
      body = JSON.parse(utf8.decode(msg.data));
    } catch {
      pending.lastError = 'unreadable ack';
      return;
    }
    if (body.error) {
      // 503s are transient (no quorum, restarting); everything else (e.g. wrong expected
      // sequence, message too large) will not get better by retrying.
      if (body.error.code === 503) {
        pending.lastError = body.error.description;
        this.resendSoon(pending);
        return;
      }
      this.settle(pending);
      pending.reject(
        new FuzeError(
          'FUZE_PUBLISH_FAILED',
          `JetStream refused ${pending.request.subject}: ${body.error.description}`,
          {
            // Not `code`: that is the FuzeError's own, and a problem+json body's. `jetstreamErrorCode`
            // tells refusals apart (10071: a compare-and-swap found another last sequence).
            details: { jetstreamCode: body.error.code, jetstreamErrorCode: body.error.err_code },
          },
        ),
      );
      return;
    }
    this.settle(pending);
    pending.resolve({ stream: body.stream ?? '', seq: body.seq ?? 0, duplicate: body.duplicate === true });
  }

  private sweep(): void {
    const now = Date.now();
    for (const pending of this.pending) {
      if (now - pending.firstSentAt >= pending.giveUpAfterMs) {
        this.settle(pending);
        pending.reject(
          new FuzeError(
            'FUZE_PUBLISH_TIMEOUT',
            `JetStream did not store ${pending.request.subject} within ${pending.giveUpAfterMs} ms (last error: ${pending.lastError}); is NATS up and the stream provisioned?`,
          ),
        );
      } else if (now - pending.sentAt >= this.ackTimeoutMs && !this.nc.isClosed()) {
        pending.sentAt = now;
        this.send(pending);
      }
    }
  }

  /** A fast 'no' (503) is worth retrying sooner than a silent timeout. */
  private resendSoon(pending: Pending): void {
    pending.sentAt = Math.min(pending.sentAt, Date.now() - this.ackTimeoutMs + 250);
  }

  private settle(pending: Pending): void {
    this.pending.delete(pending);
    this.letNextWaiterIn();
  }

  private letNextWaiterIn(): void {
    if (this.pending.size < this.maxInFlight) this.waitingForRoom.shift()?.();
  }
}
