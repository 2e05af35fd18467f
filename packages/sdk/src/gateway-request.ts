import { setTimeout as sleep } from 'node:timers/promises';
import { FuzeError, retryDelayMs } from '@fuze/core';

export interface GatewayAnswer {
  status: number;
  body: unknown;
}

/** Answers worth another try: the gateway is restarting, or lost JetStream for a moment. */
const transientStatuses = new Set([502, 503, 504]);

/**
 * POSTs `body` and returns the gateway's answer. An unreachable gateway or a transient answer
 * (502/503/504) is retried with backoff for up to `giveUpAfterMs`: safe, because the events
 * keep their source+id and the bus stores each once. Throws FUZE_PUBLISH_FAILED when the gateway
 * could not be reached at all.
 */
export async function postToGateway(request: {
  url: string;
  contentType: string;
  token: string | undefined;
  body: string;
  giveUpAfterMs: number;
}): Promise<GatewayAnswer> {
  const headers: Record<string, string> = { 'content-type': request.contentType, accept: 'application/json' };
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  const deadline = Date.now() + request.giveUpAfterMs;
  for (let attempt = 0; ; attempt++) {
    let answer: GatewayAnswer | undefined;
    let failure: unknown;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers,
        body: request.body,
        // The gateway answers within its own publish timeout; this only catches a hung peer.
        signal: AbortSignal.timeout(request.giveUpAfterMs + 10_000),
      });
      answer = { status: response.status, body: await readBody(response) };
    } catch (err) {
      failure = err;
    }
    const transient = answer === undefined || transientStatuses.has(answer.status);
    const pause = retryDelayMs(attempt + 1, 100, 2_000);
    if (!transient || Date.now() + pause >= deadline) {
      if (answer) return answer;
      throw new FuzeError(
        'FUZE_PUBLISH_FAILED',
        `cannot reach the gateway at ${request.url}: ${describe(failure)}`,
        { cause: failure },
      );
    }
    await sleep(pause);
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const base = err instanceof Error ? err.message : String(err);
  return cause?.code ? `${base} (${cause.code})` : base;
}
