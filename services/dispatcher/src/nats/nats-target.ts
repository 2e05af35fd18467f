import { type Delivery, DeliveryError, NonRetryableError } from '@fuze/delivery';
import type { NatsTargetSpec } from '@fuze/rules';
import { endSpan, injectTraceContext, publishSpan, type Span, tracingActive } from '@fuze/telemetry';
import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { percentEncodeHeaderValue, webhookId } from '../http/http-request.js';

export interface NatsTargetDeps {
  nc: NatsConnection;
  js: JetStreamClient;
}

/** JetStream API errors no retry can fix: message too large, subject not in the stream's config. */
const flushTimeoutMs = 5_000;

const permanentJetStreamCodes = new Set([10054]);

/**
 * Publishes a delivery to `spec.nats.subject` on the dispatcher's own NATS: the body as is, its
 * content type and the event's attributes as `ce-*` headers (the CloudEvents NATS binding).
 * Core NATS: done once the server has the message (flush). JetStream: done once the stream acked
 * it, with the delivery's id as Nats-Msg-Id so a retried attempt is stored once.
 */
export async function deliverNats(
  spec: NatsTargetSpec,
  delivery: Delivery,
  deps: NatsTargetDeps,
): Promise<void> {
  const { envelope } = delivery;
  const headers = natsHeaders();
  headers.set('content-type', envelope.contentType);
  for (const [name, value] of Object.entries(envelope.attributes))
    headers.set(`ce-${name}`, percentEncodeHeaderValue(value));
  const span = attemptSpan(spec, delivery);
  const trace: Record<string, string> = {};
  if (span) injectTraceContext(trace, span);
  else {
    if (envelope.attributes.traceparent) trace.traceparent = envelope.attributes.traceparent;
    if (envelope.attributes.tracestate) trace.tracestate = envelope.attributes.tracestate;
  }
  for (const [name, value] of Object.entries(trace)) headers.set(name, value);
  try {
    if (spec.nats.jetstream) await publishJetStream(spec, delivery, deps, headers);
    else await publishCore(spec, delivery, deps, headers);
  } catch (err) {
    if (span) endSpan(span, err);
    throw err;
  }
  if (span) endSpan(span);
}

/** While tracing is on: `publish <subject>` (PRODUCER), child of the delivery's process span. */
function attemptSpan(spec: NatsTargetSpec, delivery: Delivery): Span | undefined {
  if (!delivery.trace || !tracingActive()) return undefined;
  const { envelope } = delivery;
  return publishSpan(spec.nats.subject, spec.nats.subject, envelope.attributes, {
    parent: delivery.trace.context,
    target: envelope.target || delivery.target,
    ...(envelope.rule ? { rule: envelope.rule } : {}),
    attributes: { 'fuze.delivery.attempt': delivery.attempts },
  });
}

async function publishJetStream(
  spec: NatsTargetSpec,
  delivery: Delivery,
  deps: NatsTargetDeps,
  headers: MsgHdrs,
) {
  try {
    await deps.js.publish(spec.nats.subject, delivery.envelope.body, {
      msgID: webhookId(delivery.envelope),
      headers,
      timeout: 5_000,
    });
  } catch (err) {
    const message = `JetStream did not store the event on ${spec.nats.subject}: ${(err as Error).message}`;
    if (err instanceof JetStreamApiError && permanentJetStreamCodes.has(err.code))
      throw new NonRetryableError(message, { cause: err });
    throw new DeliveryError(message, true, { cause: err });
  }
}

async function publishCore(spec: NatsTargetSpec, delivery: Delivery, deps: NatsTargetDeps, headers: MsgHdrs) {
  try {
    deps.nc.publish(spec.nats.subject, delivery.envelope.body, { headers });
  } catch (err) {
    // e.g. larger than the server's max_payload: the same on every attempt
    throw new NonRetryableError(`cannot publish to ${spec.nats.subject}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.nc.flush(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no PONG within 5 s')), flushTimeoutMs);
      }),
    ]);
  } catch (err) {
    throw new DeliveryError(`NATS did not confirm the publish to ${spec.nats.subject}`, true, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
