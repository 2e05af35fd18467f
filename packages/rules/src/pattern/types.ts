/** A JSON leaf as it appears in an event after parsing. */
export type ScalarValue = string | number | boolean | null;

/**
 * An event as the router sees it: CloudEvent attributes at the top (`type`, `source`, `subject`,
 * `id`, `time`, extensions...) and `data` (parsed JSON, or a string for non-JSON payloads).
 * Pattern keys address these attributes and, under `data`, the payload.
 */
export type CloudEventLike = { readonly [attribute: string]: unknown };

/** Why a compiled pattern did or did not match one event (admin API: "why didn't my rule match?"). */
export type MatchExplanation =
  | { readonly matched: true }
  | {
      readonly matched: false;
      /** Dotted path of the first field that failed, e.g. `data.total`. */
      readonly path: string;
      /** What failed, e.g. `numeric [">=",100] not satisfied by 42` or `field is missing`. */
      readonly reason: string;
    };

/** Service limits enforced while compiling a pattern. */
export interface PatternLimits {
  /**
   * Longest accepted pattern, in characters of its minified JSON. EventBridge's default quota is
   * 2,048 (adjustable to 4,096 on request), so that is the default here too.
   */
  readonly maxPatternLength?: number;
  /** Most sub-patterns a pattern may expand to through `$or` (EventBridge: 1,000). */
  readonly maxOrCombinations?: number;
}

export const DEFAULT_MAX_PATTERN_LENGTH = 2048;
export const DEFAULT_MAX_OR_COMBINATIONS = 1000;
