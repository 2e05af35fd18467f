import { InputTransformError } from './input-errors.js';
import { APPLICATION_JSON, type InputTransformer, type TransformedInput } from './input-types.js';

/** Absent, `application/json`, `text/json` and `*+json` types carry JSON data (CloudEvents JSON format §3.1). */
export function isJsonContentType(contentType: unknown): boolean {
  if (contentType === undefined || contentType === null) return true;
  if (typeof contentType !== 'string') return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * `input: data`. JSON data is sent as JSON; string data of a non-JSON `datacontenttype` (e.g. text/plain,
 * application/xml) is sent as is with that type; `data_base64` is passed through with `encoding: 'base64'`;
 * an event without data gives an empty body.
 */
export const eventDataInput: InputTransformer = {
  kind: 'data',
  spec: 'data',
  apply(event): TransformedInput {
    const declared = event['datacontenttype'];
    const declaredType = typeof declared === 'string' ? declared : undefined;
    if (typeof event['data_base64'] === 'string') {
      return {
        body: event['data_base64'],
        contentType: declaredType ?? 'application/octet-stream',
        encoding: 'base64',
      };
    }
    const data = event['data'];
    if (data === undefined) return { body: '', contentType: declaredType ?? APPLICATION_JSON };
    if (typeof data === 'string' && declaredType !== undefined && !isJsonContentType(declaredType)) {
      return { body: data, contentType: declaredType };
    }
    let body: string | undefined;
    try {
      body = JSON.stringify(data);
    } catch (err) {
      throw new InputTransformError(`the event's data cannot be written as JSON: ${String(err)}`, {
        cause: err,
      });
    }
    if (body === undefined) throw new InputTransformError("the event's data is not a JSON value");
    return {
      body,
      contentType: isJsonContentType(declaredType) ? (declaredType ?? APPLICATION_JSON) : APPLICATION_JSON,
    };
  },
};
