import { FuzeError } from '@fuze/core';

/** An opaque page cursor: the JSON of where the last page ended, base64url. */
export function encodePageCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * Reads a cursor {@link encodePageCursor} made. `read` returns the position, or undefined when
 * the JSON is not one; anything else a client sends is a 400 naming `querystring.cursor`.
 */
export function decodePageCursor<T>(cursor: string, read: (value: unknown) => T | undefined): T {
  let position: T | undefined;
  try {
    position = read(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown);
  } catch {
    position = undefined;
  }
  if (position !== undefined) return position;
  throw new FuzeError('FUZE_INVALID_REQUEST', 'querystring.cursor: not a cursor this API returned', {
    details: { problems: [{ pointer: 'querystring.cursor', message: 'not a cursor this API returned' }] },
  });
}
