import type { PublishRequest } from '@fuze/bus';
import {
  type CloudEventRecord,
  cloudEventsJson,
  type DeadLetterRecord,
  type DeliveryEnvelope,
  deadLetterId,
  dlqSubject,
  encodeDeadLetterMessage,
  encodeDeliveryMessage,
  eventAttributes,
  routerDeadLetterTarget,
} from '@fuze/core';
import type { BusRules, RoutableTarget } from './rule-book.js';

export interface EventContext {
  prefix: string;
  bus: string;
  /** Sequence in the events stream, and when the stream stored the event (epoch ms). */
  seq: number;
  acceptedAt: number;
  /** The server's max_payload: a bigger delivery could never be stored, so it is dead-lettered. */
  maxPayloadBytes: number;
  /**
   * The event exactly as stored (its structured JSON). A target taking the whole event gets these
   * bytes as they are, rather than the event serialised again: the most common input, for free.
   */
  storedBytes?: Uint8Array;
  /**
   * Set when an archive replay routes the event again: each delivery carries the replay marker,
   * and its Nats-Msg-Id (and a dead letter's id) includes the job, so the replay is not
   * deduplicated against the original routing while a job re-run after a crash is.
   */
  replayJob?: string;
  /** Route to these targets only (an archive replay that names targets); none: every target. */
  targets?: ReadonlySet<string>;
}

/** Where one publish of a plan goes: a delivery to the target, or its dead letter. */
export interface PlannedRoute {
  rule: string;
  target: string;
  deadLettered: boolean;
}

/** Everything the router must publish for one event, in order, before it acks the event. */
export interface DeliveryPlan {
  matchedRules: string[];
  publishes: PublishRequest[];
  /** One per publish, in the same order: a dead letter is a target whose input could not be rendered. */
  routes: PlannedRoute[];
}

/**
 * Tracing hooks, passed only while tracing is on; called once per publish, in publish order.
 * `delivery` may stamp the delivery's headers (its `traceparent`); `deadLetter` returns the
 * `traceparent` to record in the dead letter (default: the event's).
 */
export interface PlanTracer {
  delivery(rule: string, target: string, subject: string, headers: Record<string, string>): void;
  deadLetter(rule: string, target: string, subject: string, err: Error): string | undefined;
}

const utf8 = new TextEncoder();
/** Room kept for the delivery's headers (ce-* attributes and Fuze-* metadata). */
const headerAllowance = 16 * 1024;

/**
 * Matches one event against its bus's rules and builds one delivery per (rule, target); a
 * target whose input cannot be rendered for this event gets a dead-letter record instead, so
 * one odd event never blocks the stream. Pure: no I/O. `matched`: the rules the caller already
 * found matching (from the event's text, see CompiledMatcher.matchJson).
 */
export function planDeliveries(
  rules: BusRules | undefined,
  event: CloudEventRecord,
  context: EventContext,
  tracer?: PlanTracer,
  matched: readonly string[] | undefined = rules?.matcher.match(event),
): DeliveryPlan {
  const plan: DeliveryPlan = { matchedRules: [], publishes: [], routes: [] };
  if (!rules || matched === undefined) return plan;
  // Most events of a busy bus match nothing: build the attribute map only for those that do.
  if (matched.length === 0) return plan;
  const attributes = eventAttributes(event);
  for (const ruleName of matched) {
    const rule = rules.rules.get(ruleName);
    if (!rule) continue;
    plan.matchedRules.push(ruleName);
    for (const target of rule.targets) {
      if (context.targets && !context.targets.has(target.spec.name)) continue;
      let partitionKey: string | undefined;
      try {
        partitionKey = partitionKeyOf(target, event);
        plan.publishes.push(deliveryFor(event, attributes, ruleName, target, partitionKey, context, tracer));
        plan.routes.push({ rule: ruleName, target: target.spec.name, deadLettered: false });
      } catch (err) {
        // This event cannot be delivered to this target as the rule stands (an input it cannot
        // render, a key it cannot read, a message too big): a dead letter, replayable once fixed.
        plan.publishes.push(
          routeDeadLetter(event, attributes, ruleName, target, partitionKey, context, err as Error, tracer),
        );
        plan.routes.push({ rule: ruleName, target: target.spec.name, deadLettered: true });
      }
    }
  }
  return plan;
}

function deliveryFor(
  event: CloudEventRecord,
  attributes: Record<string, string>,
  ruleName: string,
  target: RoutableTarget,
  partitionKey: string | undefined,
  context: EventContext,
  tracer: PlanTracer | undefined,
): PublishRequest {
  const rendered =
    target.input.kind === 'whole' && context.storedBytes
      ? { body: context.storedBytes, contentType: cloudEventsJson }
      : renderInput(target, event, ruleName, context.acceptedAt);
  if (rendered.body.length > context.maxPayloadBytes - headerAllowance) {
    const tooLarge = new Error(
      `the rendered input is ${rendered.body.length} bytes; NATS accepts at most ${context.maxPayloadBytes} per message (max_payload): make the input smaller`,
    );
    tooLarge.name = 'DeliveryTooLargeError';
    throw tooLarge;
  }
  const envelope: DeliveryEnvelope = {
    attributes,
    body: rendered.body,
    contentType: rendered.contentType,
    bus: context.bus,
    rule: ruleName,
    target: target.spec.name,
    acceptedAt: context.acceptedAt,
    eventSeq: context.seq,
    ...(partitionKey === undefined ? {} : { partitionKey }),
    ...(context.replayJob === undefined ? {} : { replay: { jobId: context.replayJob } }),
  };
  const request = encodeDeliveryMessage(context.prefix, envelope, target.partitions);
  tracer?.delivery(ruleName, target.spec.name, request.subject, request.headers);
  return request;
}

/** The target's input transformer applied to the event (raw bytes for base64 data). */
function renderInput(
  target: RoutableTarget,
  event: CloudEventRecord,
  ruleName: string,
  acceptedAt: number,
): { body: Uint8Array; contentType: string } {
  const input = target.input.apply(event, { ruleName, ingestionTime: new Date(acceptedAt) });
  return {
    body: input.encoding === 'base64' ? Buffer.from(input.body, 'base64') : utf8.encode(input.body),
    contentType: input.contentType,
  };
}

/** The key from the target's `ordering.partitionKey` path, else the event's `partitionkey`. */
function partitionKeyOf(target: RoutableTarget, event: CloudEventRecord): string | undefined {
  const value = target.partitionKey ? target.partitionKey.read(event) : event.partitionkey;
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function routeDeadLetter(
  event: CloudEventRecord,
  attributes: Record<string, string>,
  rule: string,
  target: RoutableTarget,
  partitionKey: string | undefined,
  context: EventContext,
  err: Error,
  tracer: PlanTracer | undefined,
): PublishRequest {
  const now = new Date().toISOString();
  const subject = dlqSubject(context.prefix, target.spec.name);
  const traceparent =
    tracer?.deadLetter(rule, target.spec.name, subject, err) ??
    (typeof event.traceparent === 'string' ? event.traceparent : undefined);
  const record: DeadLetterRecord = {
    id: deadLetterId(event, rule, target.spec.name, context.replayJob),
    bus: context.bus,
    rule,
    target: target.spec.name,
    attributes,
    // The untransformed event: a replay after fixing the rule can render it again. The stored
    // bytes when known: an event too deeply nested to serialise again still has them.
    body: Buffer.from(context.storedBytes ?? JSON.stringify(event)).toString('base64'),
    contentType: 'application/cloudevents+json',
    ...(partitionKey === undefined ? {} : { partitionKey }),
    eventSeq: context.seq,
    acceptedAt: context.acceptedAt,
    failure: routerFailure('route', err, now),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(context.replayJob === undefined ? {} : { replay: { jobId: context.replayJob } }),
    deadLetteredAt: now,
  };
  return encodeDeadLetterMessage(context.prefix, record);
}

/** A failure of the router itself: one attempt, not retryable (the same event fails the same way). */
function routerFailure(stage: 'plan' | 'route', err: Error, now: string): DeadLetterRecord['failure'] {
  return {
    stage,
    attempts: 1,
    firstAttemptAt: now,
    lastAttemptAt: now,
    errorClass: err.name || 'Error',
    message: err.message,
    retryable: false,
  };
}

/**
 * The dead letter of an event the router could not plan at all (a fault of the planner or of a
 * rule, not of one target): parked under the target `_router` with stage `plan`, the event as
 * stored; replaying it publishes the event to its bus again, to be routed by the rules as they are
 * then. The shard moves on: one such event never blocks it.
 */
export function planFailureDeadLetter(
  event: CloudEventRecord,
  context: EventContext & { storedBytes: Uint8Array },
  err: Error,
): PublishRequest {
  const now = new Date().toISOString();
  const record: DeadLetterRecord = {
    id: deadLetterId(event, '', routerDeadLetterTarget),
    bus: context.bus,
    rule: '',
    target: routerDeadLetterTarget,
    attributes: safeAttributes(event),
    body: Buffer.from(context.storedBytes).toString('base64'),
    contentType: cloudEventsJson,
    eventSeq: context.seq,
    acceptedAt: context.acceptedAt,
    failure: routerFailure('plan', err, now),
    ...(typeof event.traceparent === 'string' ? { traceparent: event.traceparent } : {}),
    deadLetteredAt: now,
  };
  return encodeDeadLetterMessage(context.prefix, record);
}

/** The event's attributes, or its identity alone if even they cannot be read. */
function safeAttributes(event: CloudEventRecord): Record<string, string> {
  try {
    return eventAttributes(event);
  } catch {
    return { specversion: String(event.specversion), id: event.id, source: event.source, type: event.type };
  }
}
