import {
  type Checkpoint,
  isJetStreamUnavailable,
  type JetStreamPublisher,
  type LeaseFence,
  openResumableDurable,
  pullHeartbeatMs,
} from '@fuze/bus';
import {
  busOfEventSubject,
  type CloudEventRecord,
  eventMessageText,
  eventsShardFilter,
  type Logger,
  parseEventText,
  routerDeadLetterTarget,
} from '@fuze/core';
import { type DeliveryPlan, planDeliveries, planFailureDeadLetter, type RuleSnapshot } from '@fuze/routing';
import { tracingActive } from '@fuze/telemetry';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { CheckpointedAcks } from './checkpointed-acks.js';
import { RouteTrace } from './route-trace.js';

/** The plan of an event no rule matches. */
const nothingToPublish: DeliveryPlan = Object.freeze({ matchedRules: [], publishes: [], routes: [] });

export interface ShardRouterDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  publisher: JetStreamPublisher;
  eventsStream: string;
  prefix: string;
  logger: Logger;
  /** The current rule snapshot (read once per event). */
  rules(): RuleSnapshot;
  /** Called once per routed event, for counters. */
  routed(plan: DeliveryPlan, bus: string): void;
  /** Called once per message skipped as no CloudEvent, for counters. */
  unreadable(): void;
  /** The connected server's max_payload. */
  maxPayloadBytes(): number;
  /** Events in flight per shard (publishes pipelined, acks in any order). */
  window?: number;
  /** The shard's lease: checked before each event's publishes and before its ack. */
  fence: LeaseFence;
  /** The shard's routed position (`router.<shard>` in the checkpoints bucket), written ahead of the acks. */
  checkpoint: Checkpoint;
}

/** The shard's owner can no longer confirm its lease: it stops, and the next owner takes over. */
export class ShardFencedError extends Error {
  constructor(shard: number) {
    super(`router shard ${shard}: the lease can no longer be confirmed; leaving the shard to its next owner`);
    this.name = 'ShardFencedError';
  }
}

/** A message came out of delivery order: another consumer took one (see `run`). */
export class ShardGapError extends Error {
  constructor(shard: number, expected: number, got: number, seq: number) {
    super(
      `router shard ${shard}: expected delivery ${expected}, got ${got} (events stream sequence ${seq}); restarting after the checkpoint`,
    );
    this.name = 'ShardGapError';
  }
}

/** The shard's pulls went unanswered (two heartbeats missed, see pullHeartbeatMs): it restarts. */
export class ShardPullsUnansweredError extends Error {
  constructor(shard: number) {
    super(
      `router shard ${shard}: pulls unanswered (the consumer may be electing a leader); restarting after the checkpoint`,
    );
    this.name = 'ShardPullsUnansweredError';
  }
}

/**
 * Routes one shard of the events stream, in stream order: for each event, every delivery
 * publish is issued before the next event's (the publisher keeps call order on one connection),
 * and the event is acked only after all its publishes were acked; one key's deliveries are
 * stored in routing order (the publisher's ordering key). The event is acked once the shard's
 * checkpoint covers it (CheckpointedAcks). On any failure the shard stops without acking and
 * restarts after its checkpoint, so nothing is skipped or reordered.
 *
 * Fenced: nothing is published or acked once the shard's lease cannot be confirmed, and a
 * fenced shard does not restart (that would recreate the durable under the next owner).
 */
export class ShardRouter {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly shard: number,
    private readonly deps: ShardRouterDeps,
  ) {
    this.done = this.runUntilStopped();
  }

  /** Stops pulling, waits for the events in flight to be acked (or abandoned to redelivery). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.done;
  }

  private async runUntilStopped(): Promise<void> {
    while (!this.stopped) {
      if (!this.deps.fence.mayStart()) {
        await new Promise((r) => setTimeout(r, 250)); // the lease round stops us
        continue;
      }
      try {
        await this.run();
      } catch (err) {
        if (this.stopped) break;
        if (
          err instanceof ShardFencedError ||
          err instanceof ShardGapError ||
          err instanceof ShardPullsUnansweredError
        ) {
          this.deps.logger.warn({ shard: this.shard }, err.message);
          continue;
        }
        // JetStream electing leaders: retry soon, so the shard resumes right after the election.
        const unavailable = isJetStreamUnavailable(err);
        this.deps.logger[unavailable ? 'warn' : 'error'](
          { err, shard: this.shard },
          'router shard failed; restarting after its checkpoint',
        );
        await new Promise((r) => setTimeout(r, unavailable ? 250 : 1_000));
      }
    }
  }

  private async run(): Promise<void> {
    const window = this.deps.window ?? 512;
    const consumer = await openResumableDurable(this.deps.jsm, this.deps.js, {
      stream: this.deps.eventsStream,
      name: `router-${this.shard}`,
      filterSubject: eventsShardFilter(this.deps.prefix, this.shard),
      ackWaitMs: 30_000,
      maxAckPending: window * 2,
      checkpoint: this.deps.checkpoint,
    });
    // A pull parked on a lost node is noticed after two missed heartbeats (see pullHeartbeatMs);
    // and a paused owner's pull lapses (3 s) before its shard can move (see
    // DeliveryTuning.pullExpiresMs).
    // The durable is kept when nothing was left unacked, and a fenced previous owner's pull may
    // still take a message from it: every message must come in delivery order, or the shard
    // restarts after its checkpoint (the durable is then recreated, and the taken one comes first).
    // Counted from the ack floor, not from what was delivered: a message a stale pull took after
    // the durable was checked, and before this consume, must show as a gap too. Counted from
    // `delivered`, the session took it as its start and its checkpoint claimed past the stolen
    // messages, which were then never routed (75 events lost in a lease-leader drill).
    let expectedDelivery = (await consumer.info(true)).ack_floor.consumer_seq + 1;
    const messages = await consumer.consume({
      max_messages: window,
      expires: 3_000,
      idle_heartbeat: pullHeartbeatMs,
    });
    this.messages = messages;
    let failure: unknown;
    void this.watchStatuses(messages, () => {
      failure ??= new ShardPullsUnansweredError(this.shard);
      messages.stop();
    });
    if (this.stopped) messages.stop();
    const inFlight = new Set<Promise<void>>();
    const acks = new CheckpointedAcks({
      checkpoint: this.deps.checkpoint,
      fence: this.deps.fence,
      logger: this.deps.logger,
      shard: this.shard,
    });
    try {
      for await (const msg of messages) {
        if (this.stopped || failure !== undefined) break;
        if (msg.info.deliverySequence !== expectedDelivery || msg.info.deliveryCount > 1) {
          failure = new ShardGapError(this.shard, expectedDelivery, msg.info.deliverySequence, msg.seq);
          messages.stop();
          break;
        }
        expectedDelivery += 1;
        const seq = msg.seq;
        acks.started(seq);
        const routed = this.route(msg).then(
          (toAck) => acks.finished(seq, toAck),
          (err: unknown) => {
            failure ??= err;
            messages.stop();
          },
        );
        inFlight.add(routed);
        void routed.finally(() => inFlight.delete(routed));
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } finally {
      await acks.close();
    }
    if (failure !== undefined && !this.stopped) throw failure;
  }

  /** Logs what nats.js reports of the shard's pulls (read in a failover); `unanswered` on missed heartbeats. */
  private async watchStatuses(messages: ConsumerMessages, unanswered: () => void): Promise<void> {
    for await (const status of messages.status()) {
      this.deps.logger.debug({ shard: this.shard, status: status.type }, 'pull status');
      if (status.type === 'heartbeats_missed') unanswered();
    }
  }

  /**
   * Issues this event's publishes synchronously (order); resolves once all are stored, with the
   * message to ack (none when it was settled here).
   */
  private route(msg: JsMsg): Promise<JsMsg | undefined> {
    const bus = busOfEventSubject(this.deps.prefix, msg.subject) ?? 'default';
    let plan: DeliveryPlan;
    let trace: RouteTrace | undefined;
    if (!this.deps.fence.mayStart()) return Promise.reject(new ShardFencedError(this.shard));
    const rules = this.deps.rules().get(bus);
    // Read once: the event is parsed whole and traced, or read selectively and not.
    const traced = tracingActive();
    let matched: string[] | undefined;
    let event: CloudEventRecord | undefined;
    try {
      const text = eventMessageText(msg.data);
      if (traced) {
        // A traced event is built whole for its span (which names its attributes): match that.
        const parsed = parseEventText(text);
        event = parsed;
        matched = matchedOrFault(() => rules?.matcher.match(parsed) ?? []);
      } else {
        // Matching reads only the fields the bus's rules name; the whole event is built only
        // for an event something matched.
        matched = matchedOrFault(() => rules?.matcher.matchJson(text) ?? []);
        if (matched === undefined || matched.length > 0) event = parseEventText(text);
      }
    } catch (err) {
      // Bytes in the events stream that are no CloudEvent (not written by Fuze): nothing to
      // route, and retrying cannot help. They stay in the events stream, the archive.
      this.deps.logger.error({ err, seq: msg.seq, subject: msg.subject }, 'unreadable event skipped');
      this.deps.unreadable();
      msg.term();
      return Promise.resolve(undefined);
    }
    if (event === undefined) {
      this.deps.routed(nothingToPublish, bus);
      return Promise.resolve(msg);
    }
    if (traced) trace = new RouteTrace(msg, event, bus, `router-${this.shard}`);
    const context = {
      prefix: this.deps.prefix,
      bus,
      seq: msg.seq,
      acceptedAt: msg.time.getTime(),
      maxPayloadBytes: this.deps.maxPayloadBytes(),
      // A copy: the publish goes out a loop turn later, and the bytes must not change under it.
      storedBytes: msg.data.slice(),
    };
    try {
      plan = planDeliveries(rules, event, context, trace, matched);
    } catch (err) {
      // A fault of the planner or of a rule, for this event: it is dead-lettered to `_router`
      // (replayable once fixed), and the shard moves on.
      this.deps.logger.error(
        { ...trace?.logFields(), err, seq: msg.seq, subject: msg.subject },
        'cannot plan the deliveries of an event; it is dead-lettered to _router',
      );
      plan = {
        matchedRules: [],
        publishes: [planFailureDeadLetter(event, context, err as Error)],
        routes: [{ rule: '', target: routerDeadLetterTarget, deadLettered: true }],
      };
    }
    trace?.planned(plan.matchedRules);
    const acks = plan.publishes.map((request, i) => {
      const stored = this.deps.publisher.publish(request);
      return trace ? trace.publishing(stored, i) : stored;
    });
    return Promise.all(acks).then(
      () => {
        this.deps.routed(plan, bus);
        trace?.end();
        return msg;
      },
      (err: unknown) => {
        trace?.end(err);
        throw err;
      },
    );
  }
}

/**
 * The rules `match` names, or undefined for a fault of the matcher (planned again later, where it
 * dead-letters the event to `_router` rather than dropping it). Not JSON (SyntaxError) is thrown:
 * the event is unreadable.
 */
function matchedOrFault(match: () => string[]): string[] | undefined {
  try {
    return match();
  } catch (err) {
    if (err instanceof SyntaxError) throw err;
    return undefined;
  }
}
