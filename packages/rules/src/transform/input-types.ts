/**
 * A target's `input` as written in a rule document (and as stored, after normalisation):
 * - `whole` (default): the structured CloudEvent;
 * - `data`: only the event's data;
 * - `{ constant }`: fixed text sent for every event;
 * - `{ paths, template }`: EventBridge's input transformer.
 */
export type InputSpec =
  | 'whole'
  | 'data'
  | { readonly constant: string }
  | { readonly paths: Readonly<Record<string, string>>; readonly template: string };

/** Facts about the delivery, for the predefined `<fuze.*>` placeholders. */
export interface InputContext {
  /** `<fuze.rule-name>` */
  readonly ruleName?: string;
  /** `<fuze.ingestion-time>`; when absent, the event's `time` attribute stands in. */
  readonly ingestionTime?: string | Date;
}

export interface TransformedInput {
  readonly body: string;
  readonly contentType: string;
  /** Set when `body` is base64 text standing for binary data (`input: data` of a `data_base64` event). */
  readonly encoding?: 'base64';
}

/** A compiled `input`: pure, reusable, safe to call concurrently. */
export interface InputTransformer {
  readonly kind: 'whole' | 'data' | 'constant' | 'template';
  /** The normalised spec this transformer was compiled from (storable, and accepted by compileInput). */
  readonly spec: InputSpec;
  /** @throws InputTransformError when this event cannot be rendered (the router dead-letters it). */
  apply(event: Readonly<Record<string, unknown>>, context?: InputContext): TransformedInput;
}

export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
export const APPLICATION_JSON = 'application/json';
export const TEXT_PLAIN = 'text/plain';
