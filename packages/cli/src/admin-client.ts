import type { Command } from 'commander';

/** Where the admin API is and how to authenticate: flags, then FUZE_ADMIN_URL / FUZE_ADMIN_TOKEN, then defaults. */
export interface AdminConnectionOptions {
  adminUrl?: string;
  token?: string;
}

export const defaultAdminUrl = 'http://127.0.0.1:8081';

/** An error answer of the admin API (RFC 9457 problem+json), or an unreachable API. */
export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    readonly problems: ReadonlyArray<{ pointer: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'AdminApiError';
  }

  /** `<detail> (<code>, HTTP <status>)` and one indented line per field problem. */
  describe(): string {
    const where = [this.code, this.status === undefined ? undefined : `HTTP ${this.status}`].filter(Boolean);
    const head = where.length > 0 ? `${this.message} (${where.join(', ')})` : this.message;
    const details = this.problems
      .filter((p) => !this.message.includes(p.message))
      .map((p) => `\n  - ${p.pointer || '(request)'}: ${p.message}`);
    return head + details.join('');
  }
}

export interface AdminClient {
  readonly baseUrl: string;
  /** JSON in, JSON out; throws AdminApiError for a 4xx/5xx answer or when the API cannot be reached. */
  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function createAdminClient(
  options: AdminConnectionOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): AdminClient {
  const baseUrl = (options.adminUrl ?? env.FUZE_ADMIN_URL ?? defaultAdminUrl).replace(/\/+$/, '');
  const token = options.token ?? env.FUZE_ADMIN_TOKEN;
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown) {
      const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(`${baseUrl}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new AdminApiError(
          `cannot reach the admin API at ${baseUrl} (${reason}); is \`fuze serve\` running? Set --admin-url or FUZE_ADMIN_URL`,
          undefined,
          undefined,
        );
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      if (response.status >= 400) throw problemError(response.status, parsed);
      return { status: response.status, body: parsed as T };
    },
  };
}

function problemError(status: number, body: unknown): AdminApiError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof body === 'string' && body !== ''
        ? body
        : `the admin API answered ${status}`;
  const problems = Array.isArray(problem.errors)
    ? (problem.errors as Array<{ pointer?: unknown; message?: unknown }>).map((p) => ({
        pointer: String(p.pointer ?? ''),
        message: String(p.message ?? ''),
      }))
    : [];
  return new AdminApiError(
    detail,
    status,
    typeof problem.code === 'string' ? problem.code : undefined,
    problems,
  );
}

/** Adds `--admin-url` and `--token` to a command (and its help). */
export function withAdminOptions(command: Command): Command {
  return command
    .option('--admin-url <url>', `admin API base URL (env FUZE_ADMIN_URL, default ${defaultAdminUrl})`)
    .option('--token <token>', 'bearer token: FUZE_ADMIN_TOKEN or an API key (env FUZE_ADMIN_TOKEN)');
}

/**
 * Runs a command's action: an AdminApiError (or any error) is printed as `fuze: <message>` on
 * stderr and the exit code is 1.
 */
export async function runAdminAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const message = err instanceof AdminApiError ? err.describe() : (err as Error).message;
    console.error(`fuze: ${message}`);
    process.exitCode = 1;
  }
}

/** The admin connection options of a command (its own flags and its parents'). */
export function adminConnection(command: Command): AdminConnectionOptions {
  const options = command.optsWithGlobals<{ adminUrl?: string; token?: string }>();
  return {
    ...(options.adminUrl === undefined ? {} : { adminUrl: options.adminUrl }),
    ...(options.token === undefined ? {} : { token: options.token }),
  };
}
