import type { Checkpoint, LeaseFence } from '@fuze/bus';
import type { Logger } from '@fuze/core';
import type { JsMsg } from '@nats-io/jetstream';
import { RoutedPrefix } from './routed-prefix.js';

const retryDelayMs = 250;

/**
 * Acks a shard's events only once the routing checkpoint covers them: the checkpoint, not the
 * consumer's ack floor, is the shard's position of record.
 *
 * Why: nats-server 2.9 keeps a consumer's acks in memory and writes them out lazily. Killed with
 * -9, it came back with 149-184 of 400 confirmed acks undone, while a KV write survived the same
 * kill every time. Events whose acks were undone would be routed again, and their deliveries,
 * already consumed from the work-queue delivery stream, are no longer there for the Nats-Msg-Id
 * dedupe to match after the restart: the targets got those events again after newer ones of their
 * key. With the acks behind the checkpoint, at most the events routed during one checkpoint write
 * (a KV round trip) are routed twice after such a crash.
 *
 * One write is in flight at a time and each covers everything routed without a gap by then, so
 * under load one write covers many events.
 */
export class CheckpointedAcks {
  private readonly routed = new RoutedPrefix();
  /** Routed events waiting for the checkpoint, in any order. */
  private waiting: JsMsg[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private failing = false;

  constructor(
    private readonly deps: { checkpoint: Checkpoint; fence: LeaseFence; logger: Logger; shard: number },
  ) {}

  /** The event at `seq` is being routed (call in delivery order). */
  started(seq: number): void {
    this.routed.started(seq);
  }

  /**
   * The event at `seq` is routed: every delivery it makes is stored. `msg` is acked once the
   * checkpoint covers it (omit it when the message was already settled, e.g. terminated).
   */
  finished(seq: number, msg?: JsMsg): void {
    this.routed.finished(seq);
    if (msg) this.waiting.push(msg);
    this.writing ??= this.writeWhileBehind().finally(() => {
      this.writing = undefined;
    });
  }

  /**
   * Makes a last write for what is routed and acks what it covers, then stops. Events not
   * covered stay unacked: the next consumer of the shard gets them again.
   */
  async close(): Promise<void> {
    this.closed = true; // a write that fails now is not retried
    await this.writing;
    await this.writeWhileBehind();
  }

  private async writeWhileBehind(): Promise<void> {
    const { checkpoint, fence, logger, shard } = this.deps;
    while (this.routed.through > checkpoint.known && fence.maySettle()) {
      const position = this.routed.through;
      try {
        await checkpoint.advance(position);
        if (checkpoint.known < position)
          throw new Error('the checkpoint kept changing under concurrent writers');
        this.failing = false;
      } catch (err) {
        // Once per streak: retried while NATS is away; the events stay unacked meanwhile.
        if (!this.failing) logger.warn({ err, shard }, 'could not save the routing checkpoint; will retry');
        this.failing = true;
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
        continue;
      }
      this.ackThrough(checkpoint.known);
    }
  }

  private ackThrough(position: number): void {
    // The lease cannot be confirmed: the next owner resumes after the checkpoint anyway.
    if (!this.deps.fence.maySettle()) return;
    const later: JsMsg[] = [];
    for (const msg of this.waiting) {
      if (msg.seq <= position) msg.ack();
      else later.push(msg);
    }
    this.waiting = later;
  }
}
