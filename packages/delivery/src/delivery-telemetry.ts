import {
  contextWithSpan,
  destinations,
  endSpan,
  extractMessageContext,
  processSpan,
  tracingActive,
} from '@fuze/telemetry';
import type { Delivery, DeliveryMiddleware } from './delivery.js';
import { deliveryConsumerName } from './delivery-consumers.js';
import type { DeliveryMetrics } from './delivery-metrics.js';

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
export function deliveryTelemetry(streamPrefix: string, metrics: DeliveryMetrics): DeliveryMiddleware {
  return (next) => async (delivery) => {
    if (!tracingActive()) {
      await next(delivery);
      countOutcome(delivery, metrics);
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
    countOutcome(delivery, metrics);
    endSpan(span, delivery.deadLettered?.error);
  };
}

function countOutcome(delivery: Delivery, metrics: DeliveryMetrics): void {
  if (delivery.deadLettered) return;
  const acceptedAt = delivery.envelope.acceptedAt;
  metrics.delivered(
    delivery.envelope.target || delivery.target,
    acceptedAt > 0 ? Math.max(0, Date.now() - acceptedAt) / 1000 : undefined,
  );
}
