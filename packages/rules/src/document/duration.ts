// One duration grammar for config and rule files: @fuze/core's.
export { formatDuration, parseDuration } from '@fuze/core';

/** The JSON Schema counterpart of parseDuration's grammar (schemas/rule.schema.json uses the same). */
export const DURATION_REGEX = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';
