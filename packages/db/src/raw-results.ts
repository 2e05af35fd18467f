// What a raw `db.execute` returns differs by driver (postgres.js: an array with `count`; PGlite:
// `{ rows, affectedRows }`, with jsonb sometimes as text); these read it the same way for both.

/** Rows of a raw query. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** How many rows a raw statement changed. */
export function affectedRows(result: unknown): number {
  const r = result as { count?: number; affectedRows?: number };
  return r.count ?? r.affectedRows ?? 0;
}

/** A jsonb column of a raw query, parsed when the driver returned it as text. */
export function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
