import { decodeEventMessage, type JetStreamPublisher, openResumableDurable } from '@fuze/bus';
import { busOfEventSubject, eventsShardFilter, type Logger } from '@fuze/core';
import { tracingActive } from '@fuze/telemetry';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { type DeliveryPlan, planDeliveries } from './plan-deliveries.js';
import { RouteTrace } from './route-trace.js';
import type { RuleSnapshot } from './rule-book.js';

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
  /** The connected server's max_payload. */
  maxPayloadBytes(): number;
  /** Events in flight per shard (publishes pipelined, acks in any order). */
  window?: number;
}

/**
 * Routes one shard of the events stream, in stream order: for each event, every delivery
 * publish is issued before the next event's (the publisher keeps call order on one connection),
 * and the event is acked only after all its publishes were acked. On any failure the shard
 * stops without acking and restarts from its ack floor, so nothing is skipped or reordered.
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
      try {
        await this.run();
      } catch (err) {
        if (this.stopped) break;
        this.deps.logger.error(
          { err, shard: this.shard },
          'router shard failed; restarting from its ack floor',
        );
        await new Promise((r) => setTimeout(r, 1_000));
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
    });
    const messages = await consumer.consume({ max_messages: window });
    this.messages = messages;
    if (this.stopped) messages.stop();
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for await (const msg of messages) {
      if (this.stopped || failure !== undefined) break;
      const routed = this.route(msg).catch((err: unknown) => {
        failure ??= err;
        messages.stop();
      });
      inFlight.add(routed);
      void routed.finally(() => inFlight.delete(routed));
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined && !this.stopped) throw failure;
  }

  /** Issues this event's publishes synchronously (order), then acks once all are stored. */
  private route(msg: JsMsg): Promise<void> {
    const bus = busOfEventSubject(this.deps.prefix, msg.subject) ?? 'default';
    let plan: DeliveryPlan;
    let trace: RouteTrace | undefined;
    try {
      const event = decodeEventMessage(msg.data);
      if (tracingActive()) trace = new RouteTrace(msg, event, bus, `router-${this.shard}`);
      plan = planDeliveries(
        this.deps.rules().get(bus),
        event,
        {
          prefix: this.deps.prefix,
          bus,
          seq: msg.seq,
          acceptedAt: msg.time.getTime(),
          maxPayloadBytes: this.deps.maxPayloadBytes(),
          // A copy: the publish goes out a loop turn later, and the bytes must not change under it.
          storedBytes: msg.data.slice(),
        },
        trace,
      );
    } catch (err) {
      trace?.end(err);
      // Unreadable bytes in the events stream: nothing to route, and retrying cannot help.
      this.deps.logger.error(
        { ...trace?.logFields(), err, seq: msg.seq, subject: msg.subject },
        'unreadable event skipped',
      );
      msg.term();
      return Promise.resolve();
    }
    if (trace) return this.publishTraced(msg, plan, bus, trace);
    const acks = plan.publishes.map((request) => this.deps.publisher.publish(request));
    return Promise.all(acks).then(() => {
      msg.ack();
      this.deps.routed(plan, bus);
    });
  }

  private publishTraced(msg: JsMsg, plan: DeliveryPlan, bus: string, trace: RouteTrace): Promise<void> {
    trace.planned(plan.matchedRules);
    const acks = plan.publishes.map((request, i) =>
      this.deps.publisher.publish(request).then(
        () => trace.published(i),
        (err: unknown) => {
          trace.published(i, err);
          throw err;
        },
      ),
    );
    return Promise.all(acks).then(
      () => {
        msg.ack();
        this.deps.routed(plan, bus);
        trace.end();
      },
      (err: unknown) => {
        trace.end(err);
        throw err;
      },
    );
  }
}
