import type { HeaderReader } from '@fuze/core';
import type { MsgHdrs } from '@nats-io/transport-node';

/**
 * The message's headers read once into a map: nats.js's `get` canonicalises and scans on every
 * call, and decoding a delivery makes a dozen of them.
 */
export function headerReader(headers: MsgHdrs | undefined): HeaderReader {
  const values = new Map<string, string>();
  const names: string[] = [];
  for (const [name, list] of headers ?? []) {
    names.push(name);
    values.set(name.toLowerCase(), list[0] ?? '');
  }
  return { get: (name) => values.get(name.toLowerCase()) ?? '', keys: () => names };
}
