import type { IncomingHttpHeaders } from 'node:http';
import { FuzeError } from '@fuze/core';

export const structuredType = 'application/cloudevents+json';
export const batchType = 'application/cloudevents-batch+json';

export type HttpEventBody =
  | { mode: 'structured'; event: unknown }
  | { mode: 'batch'; events: unknown[] }
  | { mode: 'binary'; event: Record<string, unknown> };

/**
 * Reads a CloudEvent from an HTTP request in any of the three HTTP binding modes.
 * Only the shape is read here; validation happens once, on the structured form. `rawHeaders`
 * (the request's raw list) shows a header sent twice, which `headers` has joined into one value.
 */
export function readHttpEvent(
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  rawHeaders: readonly string[],
): HttpEventBody {
  const header = headers['content-type'] ?? '';
  // Most clients send the bare media type: no parameters to split off, nothing to lower-case.
  const contentType =
    header === structuredType || header === batchType ? header : header.split(';')[0]!.trim().toLowerCase();
  if (contentType === structuredType) return { mode: 'structured', event: parseJson(body) };
  if (contentType === batchType) {
    const events = parseJson(body);
    if (!Array.isArray(events)) {
      throw new FuzeError('FUZE_INVALID_EVENT', 'a batch must be a JSON array of CloudEvents', {
        details: { problems: [{ pointer: '', message: 'must be an array' }] },
      });
    }
    return { mode: 'batch', events };
  }
  if (headers['ce-specversion'] !== undefined) {
    refuseRepeatedAttributes(rawHeaders);
    return { mode: 'binary', event: readBinary(headers, contentType, body) };
  }
  throw new FuzeError(
    'FUZE_UNSUPPORTED_MEDIA_TYPE',
    `cannot read a CloudEvent from content type "${contentType || '(none)'}": send ${structuredType}, ` +
      `${batchType}, or binary mode (ce-specversion, ce-id, ce-source, ce-type headers with any content type)`,
  );
}

function parseJson(body: Buffer | undefined): unknown {
  if (!body || body.length === 0)
    throw new FuzeError('FUZE_MALFORMED_JSON', 'the body is empty: send a CloudEvent as JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new FuzeError('FUZE_MALFORMED_JSON', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Node joins a repeated header into one value ("b4, b5"): a second `ce-id` would silently become
 * part of the id. Each attribute must come once (CloudEvents HTTP binding).
 */
function refuseRepeatedAttributes(rawHeaders: readonly string[]): void {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!name.startsWith('ce-')) continue;
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  if (repeated.size === 0) return;
  const names = [...repeated];
  throw new FuzeError(
    'FUZE_INVALID_EVENT',
    `the header${names.length > 1 ? 's' : ''} ${names.join(', ')} came more than once: send each CloudEvent attribute in one header`,
    {
      details: { problems: names.map((name) => ({ pointer: name.slice(3), message: 'must be sent once' })) },
    },
  );
}

/** Binary mode: attributes in `ce-*` headers (percent-encoded), the body is `data`. */
function readBinary(
  headers: IncomingHttpHeaders,
  contentType: string,
  body: Buffer | undefined,
): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    const attribute = name.slice(3);
    const text = Array.isArray(value) ? value.join(',') : value;
    try {
      event[attribute] = decodeURIComponent(text);
    } catch {
      event[attribute] = text;
    }
  }
  const rawContentType = headers['content-type'];
  if (rawContentType) event.datacontenttype = rawContentType;
  if (body && body.length > 0) {
    if (contentType === 'application/json' || contentType.endsWith('+json')) {
      try {
        event.data = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new FuzeError(
          'FUZE_MALFORMED_JSON',
          `the body is ${contentType} but not valid JSON: ${(err as Error).message}`,
        );
      }
    } else if (contentType.startsWith('text/') || contentType === 'application/xml') {
      event.data = body.toString('utf8');
    } else {
      event.data_base64 = body.toString('base64');
    }
  }
  return event;
}
