import { distance } from 'fastest-levenshtein';

/**
 * Every FUZE_* variable Fuze reads, in any process: the server's (loadConfig and the dispatcher's
 * secrets) and the clients' (the CLI and the SDK, which often share an environment with it). A
 * variable outside this list is a typo or a leftover; `fuze serve` warns about it and
 * `--verify-config` refuses it. config.test.ts holds the list to what loadConfig reads and to
 * docs/configuration.md.
 */
export const knownVariables = [
  'FUZE_DATA_DIR',
  'FUZE_NATS_URL',
  'FUZE_EMBEDDED_NATS',
  'FUZE_DATABASE_URL',
  'FUZE_HOST',
  'FUZE_GATEWAY_PORT',
  'FUZE_ADMIN_PORT',
  'FUZE_METRICS_PORT',
  'FUZE_HTTP_REQUEST_TIMEOUT',
  'FUZE_ADMIN_TOKEN',
  'FUZE_STREAM_PREFIX',
  'FUZE_STREAM_REPLICAS',
  'FUZE_EVENTS_MAX_AGE',
  'FUZE_DLQ_MAX_AGE',
  'FUZE_DEDUPE_WINDOW',
  'FUZE_ROUTING_SHARDS',
  'FUZE_MAX_EVENT_BYTES',
  'FUZE_MAX_BATCH_EVENTS',
  'FUZE_GATEWAY_PUBLISH_TIMEOUT',
  'FUZE_SCHEMAS_DIR',
  'FUZE_TRACE_URL',
  'FUZE_LOG_LEVEL',
  'FUZE_SYSTEM_EVENTS',
  'FUZE_SECRETS_DIR',
  'FUZE_ADMIN_URL',
  'FUZE_GATEWAY_URL',
  'FUZE_TOKEN',
] as const;

/** Families of variables: `FUZE_SECRET_<NAME>` holds the secret a target's `secretRef` names. */
export const knownVariablePrefixes = ['FUZE_SECRET_'] as const;

/**
 * One problem per FUZE_* variable of `env` that Fuze does not read, naming the nearest known
 * variable when one is close (`FUZE_GATEWAY_PROT` → FUZE_GATEWAY_PORT).
 */
export function unknownVariableProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set<string>(knownVariables);
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('FUZE_') || known.has(name)) continue;
    if (knownVariablePrefixes.some((prefix) => name.startsWith(prefix) && name.length > prefix.length))
      continue;
    const nearest = nearestKnown(name);
    problems.push(
      nearest
        ? `${name} is not a Fuze variable: did you mean ${nearest}?`
        : `${name} is not a Fuze variable (docs/configuration.md lists them)`,
    );
  }
  return problems;
}

function nearestKnown(name: string): string | undefined {
  let best: { name: string; edits: number } | undefined;
  for (const candidate of knownVariables) {
    const edits = distance(name, candidate);
    if (!best || edits < best.edits) best = { name: candidate, edits };
  }
  // Close enough to be a typo: a few edits, and less than a third of the name.
  return best && best.edits <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}
