import { Ajv, type ErrorObject } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { FuzeError } from '../errors/index.js';
import type { CloudEventRecord } from './cloud-event.js';
// A JSON import, not a file read, so that bundles (the SDK, the fuze binary) carry the schema.
// schemas/cloudevent.schema.json, the path the docs name, links to this file.
import cloudEventSchemaJson from './cloudevent.schema.json' with { type: 'json' };
import { acceptsCommonEnvelope } from './common-envelope.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as unknown as FormatsPlugin;

export const cloudEventSchema: Record<string, unknown> = cloudEventSchemaJson;

/**
 * An ajv instance with Fuze's formats. `regExp`: the engine for `pattern`, e.g. `linearRegExp`
 * for schemas that users register; Fuze's own schemas keep JavaScript's faster RegExp. (An
 * option rather than a flag, so that the SDK, which never compiles user schemas, bundles no RE2.)
 */
export function createAjv({ regExp }: { regExp?: RegExpEngine } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    messages: true,
    ...(regExp ? { code: { regExp } } : {}),
  });
  addFormats(ajv);
  return ajv;
}

const envelopeAjv = createAjv();
const validateEnvelope = envelopeAjv.compile<CloudEventRecord>(cloudEventSchema);
const isUriReference = formatTest(envelopeAjv, 'uri-reference');

/** One problem with an event, pointing at the attribute or JSON path that is wrong. */
export interface EventProblem {
  /** The attribute (`source`) or JSON pointer into the event (`/data/total`). */
  pointer: string;
  message: string;
}

/**
 * Validates a structured CloudEvent against schemas/cloudevent.schema.json.
 * Throws FUZE_INVALID_EVENT listing every problem, each naming its attribute.
 */
export function assertValidCloudEvent(candidate: unknown): asserts candidate is CloudEventRecord {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw new FuzeError('FUZE_INVALID_EVENT', 'a CloudEvent must be a JSON object', {
      details: { problems: [{ pointer: '', message: 'must be a JSON object' }] },
    });
  }
  if (acceptsCommonEnvelope(candidate as Record<string, unknown>, isUriReference)) return;
  if (validateEnvelope(candidate)) return;
  const problems = (validateEnvelope.errors ?? [])
    // propertyNames reports each bad name twice: once as itself, once as its inner `pattern`.
    .filter((e) => e.propertyName === undefined || e.keyword === 'propertyNames')
    .map(describeAjvError)
    .filter(uniqueProblem());
  throw new FuzeError(
    'FUZE_INVALID_EVENT',
    problems.map((p) => `${p.pointer || 'event'}: ${p.message}`).join('; '),
    {
      details: { problems },
    },
  );
}

export function describeAjvError(error: ErrorObject): EventProblem {
  const at = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      return { pointer: join(at, missing), message: `required attribute "${missing}" is missing` };
    }
    case 'propertyNames': {
      const name = String(error.params.propertyName);
      return {
        pointer: join(at, name),
        message: `invalid extension attribute name "${name}": use 1-20 lower-case letters and digits only`,
      };
    }
    case 'const':
      return { pointer: at, message: `must be "${String(error.params.allowedValue)}"` };
    case 'not':
      return at === 'schemaurl'
        ? {
            pointer: at,
            message: 'is the CloudEvents 0.3 attribute: a 1.0 event names its schema in dataschema',
          }
        : { pointer: 'data', message: 'an event carries either data or data_base64, not both' };
    case 'additionalProperties':
      return { pointer: join(at, String(error.params.additionalProperty)), message: 'is not allowed here' };
    default:
      return { pointer: at, message: error.message ?? error.keyword };
  }
}

/** The check behind one of ajv's formats, the same one its compiled schemas call. */
function formatTest(ajv: Ajv, name: string): (text: string) => boolean {
  const format = ajv.formats[name];
  if (format instanceof RegExp) return (text) => format.test(text);
  if (typeof format === 'function') return (text) => format(text) === true;
  throw new Error(`ajv has no "${name}" format as a RegExp or function`);
}

function join(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

function uniqueProblem() {
  const seen = new Set<string>();
  return (p: EventProblem) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}
