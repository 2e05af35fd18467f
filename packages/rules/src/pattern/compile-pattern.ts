import { bindSubRule, matchesSubRule } from './evaluate.js';
import { EventFields } from './event-fields.js';
import { explainMatch } from './explain.js';
import { FieldPaths } from './field-paths.js';
import { type ParsedPattern, parsePattern } from './parse.js';
import type { CloudEventLike, MatchExplanation, PatternLimits } from './types.js';

/** One event pattern, validated and ready to test events one at a time. */
export interface CompiledPattern {
  /** Whether the event matches (EventBridge semantics, array consistency included). Never throws. */
  matches(event: CloudEventLike): boolean;
  /** Like `matches`, and when it fails, the first field path that failed and why. */
  explain(event: CloudEventLike): MatchExplanation;
  /** The validated pattern, expanded into its `$or` combinations. */
  readonly parsed: ParsedPattern;
}

export type CompilePatternOptions = PatternLimits;

/**
 * Validates `pattern` as EventBridge does (throwing InvalidPatternError with the JSON path of the
 * problem) and compiles it. To match many rules at once, use `compileMatcher`.
 */
export function compilePattern(pattern: unknown, options: CompilePatternOptions = {}): CompiledPattern {
  const parsed = parsePattern(pattern, options);
  const paths = new FieldPaths();
  const subRules = parsed.subRules.map((subRule) => bindSubRule(subRule, paths));
  return {
    parsed,
    matches(event) {
      const fields = new EventFields(event, paths);
      for (const subRule of subRules) if (matchesSubRule(subRule, fields)) return true;
      return false;
    },
    explain(event) {
      return explainMatch(subRules, new EventFields(event, paths));
    },
  };
}
