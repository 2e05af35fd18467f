import type { Logger } from '@fuze/core';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Acks confirmed this long before the connection dropped are applied again when it is back. */
const windowMs = 2_000;
/** At most this many (the most recent): enough for 2 s of one worker's ordered deliveries. */
const capacity = 4_096;
/** A restarted server's JetStream may take a few seconds to answer: retry for about 10 s. */
const maxAttempts = 40;
const retryEveryMs = 250;

/**
 * nats-server 2.9 writes a consumer's acks, and a work-queue stream's removal of acked messages,
 * to disk lazily. Killed -9, a single server comes back without the acks it confirmed in its last
 * moments (23-107 ms of them in the single-node drill) and delivers those messages again: after
 * newer events of their key, and to whichever worker owns the partition then (27 stale
 * deliveries in 1 of 4 drills, on per-partition and per-member leases alike).
 *
 * This worker remembers the delivery-stream sequences whose acks were confirmed in the last
 * seconds; when the connection comes back, it deletes those messages from the delivery stream
 * (an ack of a work-queue message is exactly its removal), so no consumer can hand them out
 * again. A message already gone answers "not found", which is ignored. The worker holds no lease
 * while it was cut off for longer than 3/4 of a TTL, and another member may take a partition only
 * after a full TTL, so the deletes are usually in before the next owner's first fetch; a new
 * owner faster than that can still see such a message again (docs/delivery.md).
 */
export class LostAckRepair {
  private readonly sequences: number[] = [];
  private readonly times: number[] = [];
  private next = 0;
  private cutOffAt: number | undefined;
  private watching = false;
  private stopped = false;

  constructor(
    private readonly stream: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** An ack of `sequence` was confirmed by the consumer's leader. */
  confirmed(sequence: number): void {
    this.sequences[this.next] = sequence;
    this.times[this.next] = this.now();
    this.next = (this.next + 1) % capacity;
  }

  /** Follows the connection: applies the recent acks again each time it comes back. */
  watch(nc: NatsConnection, jsm: JetStreamManager): void {
    if (this.watching) return;
    this.watching = true;
    void (async () => {
      for await (const status of nc.status()) {
        if (this.stopped) break; // the iterator's listener goes with the next status after stop()
        if (status.type === 'disconnect') this.cutOffAt ??= this.now();
        else if (status.type === 'reconnect') await this.reapply(jsm);
      }
    })().catch((err: unknown) => this.logger.warn({ err }, 'stopped following the NATS connection'));
  }

  stop(): void {
    this.stopped = true;
  }

  /** Deletes what was acked within the window before the connection dropped. */
  async reapply(jsm: JetStreamManager): Promise<number> {
    const until = this.cutOffAt ?? this.now();
    this.cutOffAt = undefined;
    const recent = this.sequences.filter((_, i) => this.times[i]! >= until - windowMs);
    if (recent.length === 0) return 0;
    const deleted = await Promise.all(recent.map((sequence) => this.remove(jsm, sequence)));
    const count = deleted.filter(Boolean).length;
    if (count > 0)
      this.logger.warn(
        { stream: this.stream, acked: recent.length, forgotten: count },
        'NATS forgot acks it had confirmed (a restarted nats-server 2.9): removed those messages again',
      );
    return count;
  }

  /** True when the message was still there; retried while JetStream is still coming up. */
  private async remove(jsm: JetStreamManager, sequence: number): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await jsm.streams.deleteMessage(this.stream, sequence, false);
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return false;
        if (attempt >= maxAttempts) return false;
        await new Promise((resolve) => setTimeout(resolve, retryEveryMs).unref());
      }
    }
  }
}
