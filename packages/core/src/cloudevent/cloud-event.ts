/**
 * A CloudEvent 1.0 in its structured JSON form: exactly what Fuze stores in the events stream
 * and what rules match against. Extension attributes sit beside the context attributes.
 */
export interface CloudEventRecord {
  id: string;
  source: string;
  specversion: '1.0';
  type: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  time?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
}

/** What a publisher supplies: Fuze fills `id`, `time` and `specversion` when missing. */
export type CloudEventInput = Omit<CloudEventRecord, 'id' | 'specversion' | 'time'> & {
  id?: string;
  specversion?: '1.0';
  time?: string;
};

export const contextAttributes = new Set([
  'id',
  'source',
  'specversion',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
]);
