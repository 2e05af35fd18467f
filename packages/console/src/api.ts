// The admin API, as the console calls it: same origin, the token of this browser session as a
// bearer token, problem+json errors turned into ApiError with the server's own words.

const tokenKey = 'fuze.console.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
}

/** A failed call: the HTTP status, the problem's code (FUZE_...) and what the server said to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Headers for a call: the bearer token when one was entered. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = {
    method,
    headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  const res = await fetch(path, init);
  const text = await res.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const problem = (parsed ?? {}) as { detail?: string; title?: string; code?: string };
    throw new ApiError(
      res.status,
      problem.code,
      problem.detail ?? problem.title ?? `${res.status} ${res.statusText}`,
    );
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

/** `?a=1&b=2` from the fields that are set. */
export function query(fields: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
