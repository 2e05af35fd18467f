import { type Delivery, DeliveryAbortedError } from '@fuze/delivery';
import type { HttpTargetSpec } from '@fuze/rules';
import { deliverySpan, endHttpSpan, injectTraceContext, type Span, tracingActive } from '@fuze/telemetry';
import type { SecretStore } from '../secrets.js';
import { ConnectionError, SecretMissingError, TimeoutError } from './http-errors.js';
import { buildHttpRequest, type HttpRequest } from './http-request.js';
import { settleResponse } from './http-response.js';
import { webhookSigningKey } from './webhook-signature.js';

/** One attempt to POST a delivery to a webhook; throws a DeliveryError saying what happens next. */
export async function deliverHttp(
  spec: HttpTargetSpec,
  delivery: Delivery,
  secrets: SecretStore,
): Promise<void> {
  let signing: { key: Buffer; timestampSeconds: number } | undefined;
  if (spec.http.secretRef) {
    const secret = await secrets.get(spec.http.secretRef);
    if (secret === undefined)
      throw new SecretMissingError(spec.http.secretRef, secrets.describe(spec.http.secretRef));
    signing = { key: webhookSigningKey(secret), timestampSeconds: Math.floor(Date.now() / 1_000) };
  }
  const request = buildHttpRequest(spec, delivery.envelope, signing);
  const span = attemptSpan(spec, delivery, request.headers);
  if (!span) return attempt(spec, delivery, request);
  let status: number | undefined;
  try {
    await attempt(spec, delivery, request, (code) => {
      status = code;
    });
  } catch (err) {
    endHttpSpan(span, status, err);
    throw err;
  }
  endHttpSpan(span, status);
}

/**
 * While tracing is on (and the delivery has its `process fuze.deliver` span): the attempt's HTTP
 * CLIENT span, whose context replaces the event's in the `traceparent`/`tracestate` headers, so the
 * target's span is its child (`ce-traceparent` still names where the event started).
 */
function attemptSpan(
  spec: HttpTargetSpec,
  delivery: Delivery,
  headers: Record<string, string>,
): Span | undefined {
  if (!delivery.trace || !tracingActive()) return undefined;
  const { envelope } = delivery;
  const span = deliverySpan(
    {
      method: spec.http.method,
      url: spec.http.url,
      target: envelope.target || delivery.target,
      ...(envelope.rule ? { rule: envelope.rule } : {}),
      attempt: delivery.attempts,
    },
    { parent: delivery.trace.context },
  );
  delete headers.traceparent;
  delete headers.tracestate;
  injectTraceContext(headers, span);
  return span;
}

async function attempt(
  spec: HttpTargetSpec,
  delivery: Delivery,
  request: HttpRequest,
  onStatus?: (status: number) => void,
): Promise<void> {
  const timeout = AbortSignal.timeout(spec.http.timeoutMs);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([delivery.signal, timeout]),
    });
  } catch (err) {
    if (delivery.signal.aborted) throw new DeliveryAbortedError();
    if (timeout.aborted) throw new TimeoutError(spec.http.timeoutMs);
    throw new ConnectionError(`cannot reach ${new URL(request.url).host}: ${reasonOf(err)}`, err);
  }
  onStatus?.(response.status);
  try {
    await settleResponse(response, Date.now());
  } catch (err) {
    if (delivery.signal.aborted) throw new DeliveryAbortedError();
    throw err;
  }
}

/** undici hides the useful part (ECONNREFUSED, ...) in `cause`. */
function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
