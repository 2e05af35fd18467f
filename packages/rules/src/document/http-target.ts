import type { FieldPath } from './document-location.js';
import type { HttpDelivery } from './document-types.js';
import {
  checkKnownFields,
  isMapping,
  readDuration,
  readEnum,
  readMapping,
  readString,
} from './field-readers.js';
import { checkName } from './names.js';
import type { Problems } from './problems.js';

const httpFields = ['url', 'method', 'mode', 'headers', 'timeout', 'secretRef'];
export const DEFAULT_HTTP_TIMEOUT_MS = 5_000;
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the dispatcher itself (body framing, CloudEvents attributes), so a rule may not override them. */
const reservedHeaders = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
]);

function checkUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not an absolute URL: write it like http://billing:3000/events`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `"${text}" must use http or https, not ${url.protocol.slice(0, -1)}`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not embed credentials: use headers or secretRef';
  }
  return undefined;
}

function readHeaders(raw: unknown, path: FieldPath, problems: Problems): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined || raw === null) return headers;
  const mapping = readMapping(raw, path, problems, '{ X-Tenant: acme }');
  if (!mapping) return headers;
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(mapping)) {
    const lower = name.toLowerCase();
    if (!headerNamePattern.test(name)) {
      problems.add([...path, name], `"${name}" is not a valid HTTP header name`, 'key');
    } else if (reservedHeaders.has(lower) || lower.startsWith('ce-')) {
      problems.add(
        [...path, name],
        `"${name}" is set by Fuze for each delivery and cannot be configured`,
        'key',
      );
    } else if (seen.has(lower)) {
      problems.add(
        [...path, name],
        `"${name}" repeats "${seen.get(lower)}": header names ignore case`,
        'key',
      );
    } else if (typeof value !== 'string') {
      problems.add(
        [...path, name],
        `header values must be strings${isMapping(value) || Array.isArray(value) ? '' : ': quote it'}`,
      );
    } else {
      seen.set(lower, name);
      headers[name] = value;
    }
  }
  return headers;
}

/**
 * `http: { url, method, mode, headers, timeout, secretRef }`. `sendsWholeEvent` is false when the target
 * transforms its input: there is no whole event for structured mode then, so binary is the default
 * and structured an error.
 */
export function readHttpDelivery(
  raw: unknown,
  path: FieldPath,
  problems: Problems,
  sendsWholeEvent: boolean,
): HttpDelivery | undefined {
  const http = readMapping(raw, path, problems, '{ url: "http://billing:3000/events" }');
  if (!http) return undefined;
  checkKnownFields(http, path, httpFields, problems);
  const url = readString(http, 'url', path, problems, { required: true, check: checkUrl });
  const method = readEnum(http, 'method', path, problems, ['POST', 'PUT', 'PATCH'], 'POST');
  const defaultMode = sendsWholeEvent ? 'structured' : 'binary';
  const mode = readEnum(http, 'mode', path, problems, ['structured', 'binary'], defaultMode);
  if (mode === 'structured' && !sendsWholeEvent) {
    problems.add(
      [...path, 'mode'],
      'structured mode sends the whole CloudEvent as the body, but this target transforms its input: use mode: binary (or remove mode)',
    );
  }
  const headers = readHeaders(http['headers'], [...path, 'headers'], problems);
  const timeout = readDuration(http, 'timeout', path, problems, {
    min: 1,
    max: 300_000,
    fallback: DEFAULT_HTTP_TIMEOUT_MS,
  });
  const secretRef = readString(http, 'secretRef', path, problems, { check: checkName });
  if (url === undefined) return undefined;
  const delivery: HttpDelivery = { url, method, mode, headers, timeoutMs: timeout.ms };
  return secretRef === undefined ? delivery : { ...delivery, secretRef };
}
