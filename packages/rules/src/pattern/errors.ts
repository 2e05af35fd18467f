import { formatJsonPath, type PathSegment } from './pattern-location.js';

/**
 * An event pattern EventBridge would reject. `path` is the JSON path of the offending part of the
 * pattern document (`$.data.total[0].numeric`); `message` names the path and the problem.
 * Thrown at compile time only: matching never throws.
 */
export class InvalidPatternError extends Error {
  readonly code = 'FUZE_INVALID_PATTERN';
  readonly path: string;
  readonly segments: readonly PathSegment[];
  /** The id of the rule whose pattern is invalid, when compiled through `compileMatcher`. */
  readonly ruleId: string | undefined;
  /** The problem alone, without the path. */
  readonly problem: string;

  constructor(segments: readonly PathSegment[], problem: string, ruleId?: string) {
    const path = formatJsonPath(segments);
    super(`${ruleId === undefined ? '' : `rule "${ruleId}": `}invalid event pattern at ${path}: ${problem}`);
    this.name = 'InvalidPatternError';
    this.path = path;
    this.segments = segments;
    this.ruleId = ruleId;
    this.problem = problem;
  }

  /** The same error, attributed to a rule. */
  forRule(ruleId: string): InvalidPatternError {
    return new InvalidPatternError(this.segments, this.problem, ruleId);
  }
}

export function isInvalidPatternError(err: unknown): err is InvalidPatternError {
  return err instanceof InvalidPatternError;
}
