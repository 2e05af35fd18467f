/** What a token may do. The admin token holds every scope; API keys hold a chosen few. */
export const scopes = [
  'events:publish',
  'events:read',
  'events:replay',
  'rules:read',
  'rules:write',
  'dlq:read',
  'dlq:write',
  'timers:read',
  'timers:write',
  'state:read',
  'state:write',
  'schemas:read',
  'schemas:write',
  'keys:admin',
] as const;
export type Scope = (typeof scopes)[number];

/** Who made a request. */
export interface Principal {
  id: string;
  scopes: ReadonlySet<Scope> | 'all';
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes === 'all' || principal.scopes.has(scope);
}
