import { maxResponseExcerptBytes } from '@fuze/core';
import { HttpStatusError } from './http-errors.js';
import { parseRetryAfter } from './retry-after.js';

/** Statuses worth another attempt: request timeout, too many requests, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Settles an answer: 2xx resolves; anything else throws an HttpStatusError with the status, a
 * ≤ 1 KiB excerpt of the body and, for retryable statuses, the `Retry-After` delay. Redirects
 * (not followed) and other 4xx are not retryable.
 */
export async function settleResponse(response: Response, now: number): Promise<void> {
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const excerpt = await readExcerpt(response);
  const retryable = isRetryableStatus(response.status);
  const retryAfterMs = retryable ? parseRetryAfter(response.headers.get('retry-after'), now) : undefined;
  throw new HttpStatusError(response.status, retryable, excerpt, retryAfterMs);
}

/** The first ≤ 1 KiB of the body as UTF-8 (never a split character); the rest is not read. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxResponseExcerptBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body cut short still leaves what arrived
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, maxResponseExcerptBytes);
  return new TextDecoder().decode(bytes, { stream: true });
}
