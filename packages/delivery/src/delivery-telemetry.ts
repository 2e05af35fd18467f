import {
  contextWithSpan,
  destinations,
  endSpan,
  extractMessageContext,
  fuzeMetrics,
  processSpan,
  tracingActive,
} from '@fuze/telemetry';
import type { Delivery, DeliveryMiddleware } from './delivery.js';
import { deliveryConsumerName } from './delivery-consumers.js';

/**
 * The outermost middleware of every delivery (dispatcher and SDK consumers alike):
 * - while tracing is on, a `process fuze.deliver` span (CONSUMER) per delivery, child of the
 *   delivery message's `traceparent` header (the router's `publish fuze.deliver`), else of the
 *   event's `traceparent`; it goes on `delivery.trace` for the attempt and
 *   dead-letter spans made inside;
 * - `fuze_deliveries_total{outcome=delivered}` and the delivery latency (from `acceptedAt`) once
 *   delivered (dead-lettering is counted by the dead-letter middleware).
 *
 * A delivery that rejects (the worker is stopping) is not finished: no outcome is counted.
 */
export function deliveryTelemetry(streamPrefix: string): DeliveryMiddleware {
  return (next) => async (delivery) => {
    if (!tracingActive()) {
      await next(delivery);
      countOutcome(delivery);
      return;
    }
    const { envelope } = delivery;
    const target = envelope.target || delivery.target;
    const parent = extractMessageContext(delivery.headers, envelope.attributes);
    const span = processSpan(destinations.deliver, delivery.subject, envelope.attributes, {
      parent,
      consumer: deliveryConsumerName(streamPrefix, delivery.target, delivery.partition),
      ...(envelope.bus ? { bus: envelope.bus } : {}),
      ...(envelope.rule ? { rule: envelope.rule } : {}),
      target,
    });
    delivery.trace = { span, parent, context: contextWithSpan(span, parent) };
    try {
      await next(delivery);
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
    span.setAttribute('fuze.delivery.attempts', delivery.attempts);
    countOutcome(delivery);
    endSpan(span, delivery.deadLettered?.error);
  };
}

function countOutcome(delivery: Delivery): void {
  if (delivery.deadLettered) return;
  const target = delivery.envelope.target || delivery.target;
  fuzeMetrics.deliveries.inc({ target, outcome: 'delivered' });
  const acceptedAt = delivery.envelope.acceptedAt;
  if (acceptedAt > 0)
    fuzeMetrics.deliveryLatency.observe({ target }, Math.max(0, Date.now() - acceptedAt) / 1000);
}
