import { cloudEventsJson, type DeliveryEnvelope, deliveredCloudEvent, deliveryMessageId } from '@fuze/core';
import type { HttpTargetSpec } from '@fuze/rules';
import { signWebhook } from './webhook-signature.js';

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The request for one attempt, per the CloudEvents HTTP binding (binary: attributes as `ce-*`
 * headers and the data as the body; structured: the whole event as JSON), plus the target's
 * configured headers, W3C trace context and, with a signing key, Standard Webhooks headers.
 */
export function buildHttpRequest(
  spec: HttpTargetSpec,
  envelope: DeliveryEnvelope,
  signing: { key: Buffer; timestampSeconds: number } | undefined,
): HttpRequest {
  const headers: Record<string, string> = { 'user-agent': 'Fuze-Dispatcher' };
  for (const [name, value] of Object.entries(spec.http.headers)) headers[name.toLowerCase()] = value;

  let body: Uint8Array;
  if (spec.http.mode === 'structured') {
    body =
      envelope.contentType === cloudEventsJson
        ? envelope.body
        : encoder.encode(JSON.stringify(deliveredCloudEvent(envelope)));
    headers['content-type'] = `${cloudEventsJson}; charset=utf-8`;
  } else {
    const binary = binaryModeBody(envelope);
    body = binary.body;
    if (binary.contentType) headers['content-type'] = binary.contentType;
    for (const [name, value] of Object.entries(envelope.attributes)) {
      if (name === 'datacontenttype' || name === 'data_base64') continue;
      headers[`ce-${name}`] = percentEncodeHeaderValue(value);
    }
  }
  if (envelope.attributes.traceparent) headers.traceparent = envelope.attributes.traceparent;
  if (envelope.attributes.tracestate) headers.tracestate = envelope.attributes.tracestate;
  if (signing) {
    const id = webhookId(envelope);
    headers['webhook-id'] = id;
    headers['webhook-timestamp'] = String(signing.timestampSeconds);
    headers['webhook-signature'] = signWebhook(signing.key, id, signing.timestampSeconds, body);
  }
  return { url: spec.http.url, method: spec.http.method, headers, body };
}

/** Stable per event, rule and target (and replay job): the same on every retry, as the spec asks. */
export function webhookId(envelope: DeliveryEnvelope): string {
  const event = { source: envelope.attributes.source ?? '', id: envelope.attributes.id ?? '' };
  return `msg_${deliveryMessageId(event, envelope.rule, envelope.target, envelope.replay?.jobId)}`;
}

/** Binary mode carries the event's data alone: unwrap it when the delivery is the whole event. */
function binaryModeBody(envelope: DeliveryEnvelope): { body: Uint8Array; contentType: string | undefined } {
  if (envelope.contentType !== cloudEventsJson)
    return { body: envelope.body, contentType: envelope.contentType };
  const event = JSON.parse(decoder.decode(envelope.body)) as Record<string, unknown>;
  const declared = typeof event.datacontenttype === 'string' ? event.datacontenttype : undefined;
  if (typeof event.data_base64 === 'string')
    return { body: Buffer.from(event.data_base64, 'base64'), contentType: declared };
  if (event.data === undefined) return { body: new Uint8Array(0), contentType: undefined };
  const contentType = declared ?? 'application/json';
  if (typeof event.data === 'string' && !/json/i.test(contentType))
    return { body: encoder.encode(event.data), contentType };
  return { body: encoder.encode(JSON.stringify(event.data)), contentType };
}

/**
 * CloudEvents HTTP binding, 3.1.3.2: space, `"`, `%` and anything outside printable ASCII are
 * percent-encoded (UTF-8) in header values.
 */
export function percentEncodeHeaderValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') out += char;
    else
      for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
