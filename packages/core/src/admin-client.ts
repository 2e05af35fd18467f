import { type ErrorCode, FuzeError, readProblemAnswer } from './errors/index.js';

/** Where the admin API listens when nothing says otherwise (`fuze serve`'s FUZE_ADMIN_PORT). */
export const defaultAdminUrl = 'http://127.0.0.1:8081';

/** Where the admin API is and how to authenticate: options, then FUZE_ADMIN_URL / FUZE_ADMIN_TOKEN, then defaults. */
export interface AdminClientOptions {
  /** The admin API's base URL. `FUZE_ADMIN_URL`; default http://127.0.0.1:8081. */
  adminUrl?: string;
  /** A bearer token: FUZE_ADMIN_TOKEN of the server, or an API key. `FUZE_ADMIN_TOKEN`. */
  token?: string;
  /** Where the variables above are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface AdminAnswer<T> {
  status: number;
  body: T;
}

/**
 * The one HTTP client of the admin API, under the CLI's commands and the SDK's timers client.
 * JSON in, JSON out. A 4xx/5xx answer throws a FuzeError with the answer's code, and
 * `details.status` and `details.problems` (one per field at fault); an API that cannot be reached
 * throws FUZE_ADMIN_UNREACHABLE.
 */
export interface AdminClient {
  readonly baseUrl: string;
  request<T>(method: string, path: string, body?: unknown): Promise<AdminAnswer<T>>;
  /**
   * A GET whose answer is read as it arrives (Server-Sent Events: `fuze tail`): resolves with the
   * response once its status is 2xx, throws as `request` does otherwise.
   */
  open(path: string, options?: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
}

export function createAdminClient(options: AdminClientOptions = {}): AdminClient {
  const env = options.env ?? process.env;
  const baseUrl = (options.adminUrl ?? env.FUZE_ADMIN_URL ?? defaultAdminUrl).replace(/\/+$/, '');
  const token = options.token ?? env.FUZE_ADMIN_TOKEN;
  const doFetch = options.fetch ?? fetch;
  const send = async (path: string, init: RequestInit & { headers: Record<string, string> }) => {
    if (token) init.headers.authorization = `Bearer ${token}`;
    try {
      return await doFetch(`${baseUrl}${path}`, init);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw unreachable(baseUrl, err);
    }
  };
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown): Promise<AdminAnswer<T>> {
      const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await send(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw unreachable(baseUrl, err);
      }
      const parsed = parseAnswer(text);
      if (response.status >= 400) throw errorOfAnswer(response.status, parsed);
      return { status: response.status, body: parsed as T };
    },
    async open(path, openOptions = {}) {
      const response = await send(path, {
        method: 'GET',
        headers: { accept: 'text/event-stream, application/problem+json', ...openOptions.headers },
        ...(openOptions.signal ? { signal: openOptions.signal } : {}),
      });
      if (response.status >= 400) throw errorOfAnswer(response.status, parseAnswer(await response.text()));
      return response;
    },
  };
}

function unreachable(baseUrl: string, err: unknown): FuzeError {
  const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new FuzeError(
    'FUZE_ADMIN_UNREACHABLE',
    `cannot reach the admin API at ${baseUrl} (${reason}): is \`fuze serve\` running there? Point FUZE_ADMIN_URL (the CLI's --admin-url) at it`,
    { cause: err },
  );
}

function parseAnswer(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text; // a proxy's page, say
  }
}

function errorOfAnswer(status: number, body: unknown): FuzeError {
  const { code, detail, problems } = readProblemAnswer(status, body, codeOfStatus);
  // A body that is no JSON (a proxy's page, say) is quoted, cut short.
  const text = typeof body === 'string' && body !== '' ? `: ${body.slice(0, 200)}` : '';
  const message = detail ?? `the admin API answered ${status}${text}`;
  return new FuzeError(code, message, { details: { status, problems } });
}

/** For an answer without a Fuze code (a proxy's, say). */
function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'FUZE_UNAUTHORIZED';
  if (status === 403) return 'FUZE_FORBIDDEN';
  if (status === 404) return 'FUZE_NOT_FOUND';
  return status < 500 ? 'FUZE_INVALID_REQUEST' : 'FUZE_ADMIN_UNREACHABLE';
}
