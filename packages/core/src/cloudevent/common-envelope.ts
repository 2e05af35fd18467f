import { isRfc3339DateTime } from '../time/rfc3339.js';

/**
 * True only for an event that schemas/cloudevent.schema.json certainly accepts, read in one pass
 * over its attributes. False means "not sure": the caller asks ajv, which also names what is wrong.
 *
 * Why: every event on every ingest path is validated, and ajv's compiled schema walks the
 * attributes twice, runs a regex per attribute name and one per `source`. The events services
 * send are plain: the required attributes, `time`, a few strings, `data`, some extensions. This
 * accepts those and leaves every rarer attribute (dataschema, data_base64, traceparent,
 * tracestate, deliverat, delay, schemaurl) and every doubtful value to the schema.
 * packages/core/tests/common-envelope.test.ts holds it to ajv's answers: it never accepts an
 * event the schema refuses.
 *
 * `isUriReference` is the schema's own `uri-reference` format, passed in so this file holds no
 * copy of it.
 */
export function acceptsCommonEnvelope(
  event: Record<string, unknown>,
  isUriReference: (text: string) => boolean,
): boolean {
  let required = 0;
  for (const name in event) {
    const value = event[name];
    switch (name) {
      case 'id':
      case 'type':
        if (typeof value !== 'string' || value.length === 0) return false;
        required++;
        break;
      case 'source':
        if (typeof value !== 'string' || value.length === 0 || !knownSource(value, isUriReference))
          return false;
        required++;
        break;
      case 'specversion':
        if (value !== '1.0') return false;
        required++;
        break;
      case 'time':
        if (typeof value !== 'string' || !isRfc3339DateTime(value)) return false;
        break;
      case 'datacontenttype':
      case 'subject':
      case 'partitionkey':
        if (typeof value !== 'string' || value.length === 0) return false;
        break;
      case 'data':
        break;
      case 'dataschema':
      case 'data_base64':
      case 'traceparent':
      case 'tracestate':
      case 'deliverat':
      case 'delay':
      case 'schemaurl':
        return false;
      default:
        if (!isExtensionName(name) || !isExtensionValue(value)) return false;
    }
  }
  return required === 4;
}

// The schema's propertyNames: 1 to 20 lower-case ASCII letters and digits.
function isExtensionName(name: string): boolean {
  if (name.length === 0 || name.length > 20) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

// The schema's additionalProperties, without null: a null attribute is left to the schema.
function isExtensionValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || Number.isInteger(value);
}

/**
 * A publisher sends from a handful of sources, so each distinct source is checked against the
 * uri-reference format once. Bounded: a flood of distinct sources only empties it.
 */
const knownSources = new Set<string>();
const maxKnownSources = 1024;

function knownSource(source: string, isUriReference: (text: string) => boolean): boolean {
  if (knownSources.has(source)) return true;
  if (!isUriReference(source)) return false;
  if (knownSources.size >= maxKnownSources) knownSources.clear();
  knownSources.add(source);
  return true;
}
