import type { CloudEventRecord, DeadLetterRecord, DeliveryEnvelope, EventRouting } from '@fuze/core';
import { encodeDeliveryMessage, encodeEventMessage } from '@fuze/core';
import { compileInput } from '@fuze/rules';
import type { PublishRequest } from './jetstream.js';
import type { TargetCatalog } from './target-catalog.js';

/** A dead letter that cannot be replayed as it is; the entry fails with this reason. */
export class ReplayEntryError extends Error {
  override readonly name = 'ReplayEntryError';
}

export interface ReplayPublicationContext {
  prefix: string;
  /** The deployment's routing: a plan-stage replay goes back to its bus by it. */
  routing: EventRouting;
  jobId: string;
  /** Replay to this target instead of the record's own. */
  target?: string | undefined;
  catalog: TargetCatalog;
}

const utf8 = new TextEncoder();

/**
 * The DELIVERY publish that replays one dead letter: the envelope it failed with (original event
 * id and attributes), marked with `replay: { jobId, deadLetterId }`, on the subject and partition
 * of the chosen target; its Nats-Msg-Id includes the job, so a worker that crashes and publishes
 * again is deduplicated, while a later job (force) is not. A dead letter of the `route` stage
 * holds the original event: it is rendered again through the rule's input transformer, and fails
 * if the rule still cannot render it. A dead letter of the `plan` stage (target `_router`) goes
 * back to its bus instead: the event is published to the events stream again, with a Nats-Msg-Id
 * of its own per job, and the router routes it by the rules as they are then. Pure.
 * @throws ReplayEntryError
 */
export function replayPublication(
  record: DeadLetterRecord,
  context: ReplayPublicationContext,
): PublishRequest {
  if (record.failure.stage === 'plan') return eventAgain(record, context);
  const target = context.target ?? record.target;
  const { body, contentType } =
    record.failure.stage === 'route'
      ? renderAgain(record, target, context.catalog)
      : { body: Buffer.from(record.body, 'base64'), contentType: record.contentType };
  const envelope: DeliveryEnvelope = {
    attributes: record.attributes,
    body,
    contentType,
    bus: record.bus,
    rule: record.rule,
    target,
    acceptedAt: record.acceptedAt,
    ...(record.eventSeq === undefined ? {} : { eventSeq: record.eventSeq }),
    ...(record.partitionKey === undefined ? {} : { partitionKey: record.partitionKey }),
    replay: { jobId: context.jobId, deadLetterId: record.id },
  };
  return encodeDeliveryMessage(context.prefix, envelope, context.catalog.partitionsOf(target));
}

/** The publish that routes a plan-stage dead letter's event again. */
function eventAgain(record: DeadLetterRecord, context: ReplayPublicationContext): PublishRequest {
  if (context.target !== undefined) {
    throw new ReplayEntryError(
      'this dead letter is of the plan stage: its event goes back to its bus, to be routed again; replay it without a target',
    );
  }
  const stored = Buffer.from(record.body, 'base64');
  let event: CloudEventRecord;
  try {
    event = JSON.parse(stored.toString('utf8')) as CloudEventRecord;
  } catch (err) {
    throw new ReplayEntryError(`the stored event is not JSON: ${(err as Error).message}`);
  }
  const request = encodeEventMessage(context.prefix, record.bus, event, context.routing, Date.now(), stored);
  return { ...request, msgId: `${request.msgId}.replay.${context.jobId}` };
}

/** Renders a route-stage dead letter (body = the original event) with the rule's transformer, as it is now. */
function renderAgain(
  record: DeadLetterRecord,
  target: string,
  catalog: TargetCatalog,
): { body: Uint8Array; contentType: string } {
  if (!catalog.hasRule(record.bus, record.rule)) {
    throw new ReplayEntryError(
      `rule ${record.rule} (bus ${record.bus}) no longer exists: its input transformer cannot render the event`,
    );
  }
  const spec =
    catalog.ruleTarget(record.bus, record.rule, target) ??
    catalog.ruleTarget(record.bus, record.rule, record.target);
  if (!spec) {
    throw new ReplayEntryError(`rule ${record.rule} no longer has the target ${record.target}`);
  }
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(Buffer.from(record.body, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ReplayEntryError(`the stored event is not JSON: ${(err as Error).message}`);
  }
  try {
    const input = compileInput(spec.input).apply(event, {
      ruleName: record.rule,
      ingestionTime: new Date(record.acceptedAt),
    });
    return {
      body: input.encoding === 'base64' ? Buffer.from(input.body, 'base64') : utf8.encode(input.body),
      contentType: input.contentType,
    };
  } catch (err) {
    throw new ReplayEntryError(`the rule's input transformer still fails: ${(err as Error).message}`);
  }
}
