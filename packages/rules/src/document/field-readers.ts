import { didYouMean } from '../transform/closest-match.js';
import type { FieldPath } from './document-location.js';
import { formatDuration, parseDuration } from './duration.js';
import type { Problems } from './problems.js';

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The value as a mapping, or undefined after reporting what was expected. */
export function readMapping(
  value: unknown,
  path: FieldPath,
  problems: Problems,
  example: string,
): Mapping | undefined {
  if (isMapping(value)) return value;
  problems.add(path, `must be a mapping (e.g. ${example}), not ${describe(value)}`);
  return undefined;
}

/** Reports each key that is not allowed, with a "did you mean" for typos. */
export function checkKnownFields(
  mapping: Mapping,
  path: FieldPath,
  allowed: readonly string[],
  problems: Problems,
): void {
  for (const key of Object.keys(mapping)) {
    if (allowed.includes(key)) continue;
    const hint = didYouMean(key, allowed);
    problems.add(
      [...path, key],
      `unknown field "${key}".${hint || ` Allowed here: ${allowed.join(', ')}.`}`,
      'key',
    );
  }
}

interface StringRules {
  readonly required?: boolean;
  readonly maxLength?: number;
  /** Checked after the type; returns a message when the text is not acceptable. */
  readonly check?: (text: string) => string | undefined;
}

export function readString(
  mapping: Mapping,
  key: string,
  path: FieldPath,
  problems: Problems,
  rules: StringRules = {},
): string | undefined {
  const value = mapping[key];
  const at = [...path, key];
  if (value === undefined || value === null) {
    if (rules.required) problems.add(at, `"${key}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(
      at,
      `must be a string, not ${describe(value)}${typeof value === 'number' || typeof value === 'boolean' ? ': quote it' : ''}`,
    );
    return undefined;
  }
  if (rules.maxLength !== undefined && value.length > rules.maxLength) {
    problems.add(at, `is ${value.length} characters long; the limit is ${rules.maxLength}`);
    return undefined;
  }
  const complaint = rules.check?.(value);
  if (complaint !== undefined) {
    problems.add(at, complaint);
    return undefined;
  }
  return value;
}

export function readBoolean(
  mapping: Mapping,
  key: string,
  path: FieldPath,
  problems: Problems,
  fallback: boolean,
): boolean {
  const value = mapping[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  problems.add([...path, key], `must be true or false, not ${describe(value)}`);
  return fallback;
}

export function readEnum<T extends string>(
  mapping: Mapping,
  key: string,
  path: FieldPath,
  problems: Problems,
  values: readonly T[],
  fallback: T,
): T {
  const value = mapping[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, values) : '';
  problems.add([...path, key], `must be one of ${values.join(', ')}, not ${describe(value)}.${hint}`);
  return fallback;
}

export function readInteger(
  mapping: Mapping,
  key: string,
  path: FieldPath,
  problems: Problems,
  bounds: { readonly min: number; readonly max: number; readonly fallback: number },
): number {
  const value = mapping[key];
  if (value === undefined || value === null) return bounds.fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    problems.add(
      [...path, key],
      `must be a whole number from ${bounds.min} to ${bounds.max}, not ${describe(value)}`,
    );
    return bounds.fallback;
  }
  return value;
}

/**
 * A duration such as `5s` or `1h30m`, in milliseconds, within bounds. `explicit` tells callers whether the
 * user wrote it, for checks that relate two fields.
 */
export function readDuration(
  mapping: Mapping,
  key: string,
  path: FieldPath,
  problems: Problems,
  bounds: { readonly min: number; readonly max: number; readonly fallback: number },
): { readonly ms: number; readonly explicit: boolean; readonly valid: boolean } {
  const value = mapping[key];
  const at = [...path, key];
  if (value === undefined || value === null) return { ms: bounds.fallback, explicit: false, valid: true };
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? `: add a unit, e.g. ${value}ms or ${value}s` : '';
    problems.add(at, `must be a duration such as 500ms, 5s, 5m or 1h30m, not ${describe(value)}${hint}`);
    return { ms: bounds.fallback, explicit: true, valid: false };
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    problems.add(at, (err as Error).message);
    return { ms: bounds.fallback, explicit: true, valid: false };
  }
  if (ms < bounds.min || ms > bounds.max) {
    problems.add(
      at,
      `must be from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}, not ${value}`,
    );
    return { ms: bounds.fallback, explicit: true, valid: false };
  }
  return { ms, explicit: true, valid: true };
}
