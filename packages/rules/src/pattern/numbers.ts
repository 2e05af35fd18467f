/**
 * EventBridge compares numbers as fixed-point values (event-ruler's ComparableNumber): between
 * -5e9 and +5e9 inclusive, with at most 6 digits after the decimal point. Pattern numbers used by
 * `numeric` and `anything-but` must fit; event numbers that do not fit never satisfy a numeric
 * comparison (they can still equal an exact pattern number).
 */
export const NUMERIC_LIMIT = 5e9;
export const NUMERIC_DECIMAL_DIGITS = 6;

const scale = 10 ** NUMERIC_DECIMAL_DIGITS;

/** True when `value` has at most 6 decimal digits (checked on the shortest decimal form of the double). */
function hasAtMostSixDecimals(value: number): boolean {
  if (Number.isInteger(value)) return true;
  // Division is correctly rounded, so this round-trips exactly when the shortest form has <= 6 decimals.
  return Math.round(value * scale) / scale === value;
}

/** Whether an event number takes part in numeric comparisons (see module comment). */
export function isComparableNumber(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= NUMERIC_LIMIT && hasAtMostSixDecimals(value);
}

/** Why a pattern number cannot be compared, or `undefined` when it can. */
export function comparableNumberProblem(value: number): string | undefined {
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  if (Math.abs(value) > NUMERIC_LIMIT) return `${value} is outside the supported range -5e9..5e9`;
  if (!hasAtMostSixDecimals(value)) return `${value} has more than ${NUMERIC_DECIMAL_DIGITS} decimal digits`;
  return undefined;
}
