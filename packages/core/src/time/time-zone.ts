/**
 * Whether the runtime knows `zone` as an IANA time zone (`UTC`, `Europe/Paris`): the check of
 * every cron schedule's zone, whether it comes from YAML, the admin API or the SDK.
 */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The message for a zone {@link isTimeZone} refuses. */
export function timeZoneProblem(zone: string): string {
  return `"${zone}" is not an IANA time zone such as UTC or Europe/Paris`;
}
