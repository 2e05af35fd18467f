/**
 * The CloudEvent a timer publishes, as every writer of a timer gives it (admin API, SDK, CLI,
 * YAML `kind: Schedule`) and the timers table stores it: without `id`, `specversion` and `time`,
 * which are set at each firing. A held (delayed) event is stored whole in the same shape.
 */
export interface TimerEventTemplate {
  type: string;
  source: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  /** Extension attributes (1-20 lower-case letters and digits) beside the context attributes. */
  [extension: string]: unknown;
}
