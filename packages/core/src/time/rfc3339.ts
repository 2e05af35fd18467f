/**
 * The JSON Schema `date-time` format (RFC 3339 `date-time`, zone required), with exactly the
 * rules of ajv-formats' full `date-time`: `T`, `t` or a space between date and time, real calendar
 * days, a leap second only at 23:59:60 UTC, offsets `Z`, `+hh`, `+hhmm` or `+hh:mm`.
 *
 * Why our own: every event's `time` goes through it on every ingest path. ajv-formats splits the
 * string with a regex and runs two capturing regexes, about 0.5 µs and three arrays per event;
 * reading the characters in place costs a tenth of that. packages/core/tests/rfc3339.test.ts holds
 * it to ajv-formats' answers.
 */
export function isRfc3339DateTime(text: string): boolean {
  // YYYY-MM-DDTHH:MM:SSZ is the shortest.
  if (text.length < 20) return false;
  const century = twoDigits(text, 0);
  const yearOfCentury = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (century < 0 || yearOfCentury < 0 || text.charCodeAt(4) !== dash || text.charCodeAt(7) !== dash)
    return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const year = century * 100 + yearOfCentury;
  if (day > (month === 2 && isLeapYear(year) ? 29 : daysInMonth[month]!)) return false;
  if (!isSeparator(text, 10)) return false;

  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (hour < 0 || minute < 0 || second < 0) return false;
  if (text.charCodeAt(13) !== colon || text.charCodeAt(16) !== colon) return false;
  let at = 19;
  if (text.charCodeAt(at) === dot) {
    const fractionStart = ++at;
    while (digitAt(text, at) >= 0) at++;
    if (at === fractionStart) return false;
  }

  // The zone is required. A fraction never matters below: 59.9 < 60 and 60.9 < 61.
  let sign = 1;
  let offsetHours = 0;
  let offsetMinutes = 0;
  const zone = text.charCodeAt(at);
  if (zone === upperZ || zone === lowerZ) {
    at += 1;
  } else if (zone === plus || zone === dash) {
    sign = zone === dash ? -1 : 1;
    offsetHours = twoDigits(text, at + 1);
    if (offsetHours < 0) return false;
    at += 3;
    if (at < text.length) {
      if (text.charCodeAt(at) === colon) at += 1;
      offsetMinutes = twoDigits(text, at);
      if (offsetMinutes < 0) return false;
      at += 2;
    }
  } else {
    return false;
  }
  if (at !== text.length || offsetHours > 23 || offsetMinutes > 59) return false;
  if (hour <= 23 && minute <= 59 && second <= 59) return true;
  // A leap second: 23:59:60 in UTC, whatever the offset shows.
  const utcMinute = minute - offsetMinutes * sign;
  const utcHour = hour - offsetHours * sign - (utcMinute < 0 ? 1 : 0);
  return (utcHour === 23 || utcHour === -1) && (utcMinute === 59 || utcMinute === -1) && second <= 60;
}

const dash = 45;
const colon = 58;
const dot = 46;
const plus = 43;
const upperZ = 90;
const lowerZ = 122;
const upperT = 84;
const lowerT = 116;
const daysInMonth = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const whitespace = /\s/;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function isSeparator(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code === upperT || code === lowerT || whitespace.test(text[at]!);
}

/** 0-9 for an ASCII digit at `at`, else -1 (also past the end). */
function digitAt(text: string, at: number): number {
  const value = text.charCodeAt(at) - 48;
  return value >= 0 && value <= 9 ? value : -1;
}

function twoDigits(text: string, at: number): number {
  const tens = digitAt(text, at);
  const ones = digitAt(text, at + 1);
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones;
}
