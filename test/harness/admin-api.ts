/** An answer of the admin API as tests read it: the status and the JSON body. */
export interface AdminAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** One JSON request to a Fuze HTTP API (`fuze.adminUrl`), as a client would send it. */
export async function callApi<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<AdminAnswer<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}
