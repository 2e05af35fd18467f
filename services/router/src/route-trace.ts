import type { CloudEventRecord } from '@fuze/core';
import type { PlanTracer } from '@fuze/routing';
import {
  attributes,
  type Context,
  contextWithSpan,
  deadLetterSpan,
  destinations,
  endSpan,
  extractMessageContext,
  formatTraceparent,
  injectTraceContext,
  processSpan,
  publishSpan,
  type Span,
  traceLogFields,
} from '@fuze/telemetry';
import type { JsMsg } from '@nats-io/jetstream';

/**
 * The spans of routing one event, made only while tracing is on:
 *
 *   process fuze.events (CONSUMER; parent: the message's `traceparent` header, i.e. the gateway's or
 *   SDK's publish span, else the event's `traceparent`; `fuze.rule.names` = every matched rule)
 *     publish fuze.deliver (PRODUCER, one per delivery; its context is the delivery's `traceparent`
 *     header, so the dispatcher's span is its child)
 *     publish fuze.dlq (PRODUCER, one per target whose input could not be rendered)
 *
 * The event's own `traceparent` attribute (`ce-traceparent` on deliveries) is left as it is: it
 * names where the event started.
 */
export class RouteTrace implements PlanTracer {
  private readonly span: Span;
  private readonly context: Context;
  private readonly publishes: Span[] = [];

  constructor(
    msg: JsMsg,
    private readonly event: CloudEventRecord,
    bus: string,
    consumer: string,
  ) {
    const parent = extractMessageContext(msg.headers, event);
    this.span = processSpan(destinations.events, msg.subject, event, {
      parent,
      consumer,
      bus,
    });
    this.context = contextWithSpan(this.span, parent);
  }

  delivery(rule: string, target: string, subject: string, headers: Record<string, string>): void {
    const span = publishSpan(destinations.deliver, subject, this.event, {
      parent: this.context,
      rule,
      target,
    });
    // The hop's context replaces the event's (which stays in ce-traceparent / ce-tracestate).
    delete headers.tracestate;
    injectTraceContext(headers, span);
    this.publishes.push(span);
  }

  deadLetter(rule: string, target: string, subject: string, err: Error): string | undefined {
    const span = deadLetterSpan(
      subject,
      this.event,
      { target, rule, stage: 'route', errorClass: err.name || 'Error' },
      { parent: this.context },
    );
    this.publishes.push(span);
    return formatTraceparent(span.spanContext());
  }

  /** The plan is made: records the matched rules. */
  planned(matchedRules: string[]): void {
    this.span.setAttribute(attributes.ATTR_FUZE_RULE_NAMES, matchedRules);
    this.span.setAttribute(attributes.ATTR_FUZE_DELIVERY_COUNT, this.publishes.length);
  }

  /** Ends the `index`-th publish's span when `stored` settles; `stored` passes through. */
  publishing<T>(stored: Promise<T>, index: number): Promise<T> {
    const span = this.publishes[index];
    if (!span) return stored;
    return stored.then(
      (ack) => {
        endSpan(span);
        return ack;
      },
      (err: unknown) => {
        endSpan(span, err);
        throw err;
      },
    );
  }

  /** `trace_id`/`span_id` for a log line about this event. */
  logFields(): Record<string, unknown> | undefined {
    return traceLogFields(this.span);
  }

  /** The event is acked (or routing it failed: it will be redelivered). */
  end(err?: unknown): void {
    endSpan(this.span, err);
  }
}
