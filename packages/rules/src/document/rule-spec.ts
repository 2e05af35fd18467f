import type { FieldPath } from './document-location.js';
import type { TargetSpec } from './document-types.js';
import { checkKnownFields, type Mapping, readBoolean, readMapping } from './field-readers.js';
import { checkPattern } from './pattern-check.js';
import type { Problems } from './problems.js';
import { readTarget } from './target-spec.js';

const ruleSpecFields = ['enabled', 'pattern', 'targets'];
export const MAX_TARGETS = 10;

export interface RuleSpec {
  readonly enabled: boolean;
  readonly pattern: Mapping;
  readonly targets: readonly TargetSpec[];
}

function readTargets(raw: unknown, path: FieldPath, problems: Problems): TargetSpec[] {
  if (raw === undefined || raw === null) {
    problems.add(path, '"targets" is required: list where matching events go, e.g. - name: billing');
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.add(path, 'must be a non-empty list of targets');
    return [];
  }
  if (raw.length > MAX_TARGETS)
    problems.add(path, `has ${raw.length} targets; a rule has at most ${MAX_TARGETS}`);
  const targets: TargetSpec[] = [];
  const names = new Map<string, number>();
  raw.forEach((item, index) => {
    const target = readTarget(item, [...path, index], problems);
    const name = target?.name;
    if (name === undefined) return;
    const first = names.get(name);
    if (first === undefined) names.set(name, index);
    else
      problems.add(
        [...path, index, 'name'],
        `target name "${name}" is already used by targets[${first}]: names are unique within a rule`,
      );
    targets.push(target as TargetSpec);
  });
  return targets;
}

/** `spec:` of a Rule. */
export function readRuleSpec(raw: unknown, problems: Problems): RuleSpec | undefined {
  const path: FieldPath = ['spec'];
  if (raw === undefined) {
    problems.add(path, '"spec" is required, with a pattern and targets');
    return undefined;
  }
  const spec = readMapping(raw, path, problems, '{ pattern: {...}, targets: [...] }');
  if (!spec) return undefined;
  checkKnownFields(spec, path, ruleSpecFields, problems);
  const enabled = readBoolean(spec, 'enabled', path, problems, true);
  let pattern: Mapping | undefined;
  if (spec['pattern'] === undefined || spec['pattern'] === null) {
    problems.add(
      [...path, 'pattern'],
      '"pattern" is required: the event pattern that selects events, e.g. { type: [com.shop.order.placed] }',
    );
  } else {
    pattern = readMapping(
      spec['pattern'],
      [...path, 'pattern'],
      problems,
      '{ type: [com.shop.order.placed] }',
    );
    if (pattern) checkPattern(pattern, [...path, 'pattern'], problems);
  }
  const targets = readTargets(spec['targets'], [...path, 'targets'], problems);
  return pattern ? { enabled, pattern, targets } : undefined;
}
