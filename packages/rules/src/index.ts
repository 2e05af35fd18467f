// Public entry of @fuze/rules: re-exports only.

export * from './document/index.js';
export type {
  CompiledMatcher,
  CompileMatcherOptions,
  RuleInput,
} from './matcher/compile-matcher.js';
export { compileMatcher } from './matcher/compile-matcher.js';
export type { CompiledPattern, CompilePatternOptions } from './pattern/compile-pattern.js';
export { compilePattern } from './pattern/compile-pattern.js';
export { InvalidPatternError, isInvalidPatternError } from './pattern/errors.js';
export {
  type CloudEventLike,
  DEFAULT_MAX_OR_COMBINATIONS,
  DEFAULT_MAX_PATTERN_LENGTH,
  type MatchExplanation,
  type PatternLimits,
  type ScalarValue,
} from './pattern/types.js';
export * from './transform/index.js';
