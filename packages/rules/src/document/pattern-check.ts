// The pattern module has no index of its own yet; these are the files the package entry re-exports.
import { compilePattern } from '../pattern/compile-pattern.js';
import { InvalidPatternError } from '../pattern/errors.js';
import type { FieldPath } from './document-location.js';
import type { Problems } from './problems.js';

/** Reads `$.data.total[0]` / `$['detail-type']` back into steps, for errors that carry only a path string. */
function stepsOfJsonPath(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  const step = /\.([^.[\]]+)|\[(\d+)\]|\[(['"])(.*?)\3\]/gy;
  step.lastIndex = path.startsWith('$') ? 1 : 0;
  for (let match = step.exec(path); match; match = step.exec(path)) {
    if (match[1] !== undefined) steps.push(match[1]);
    else if (match[2] !== undefined) steps.push(Number(match[2]));
    else if (match[4] !== undefined) steps.push(match[4]);
  }
  return steps;
}

/** Compiles the pattern with the pattern language's own compiler and reports where it fails. */
export function checkPattern(pattern: unknown, path: FieldPath, problems: Problems): void {
  try {
    compilePattern(pattern);
  } catch (err) {
    if (!(err instanceof InvalidPatternError)) {
      problems.add(path, `is not a valid event pattern: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const steps = Array.isArray(err.segments) ? err.segments : stepsOfJsonPath(err.path);
    const problem = typeof err.problem === 'string' ? err.problem : err.message;
    problems.add([...path, ...steps], problem);
  }
}
