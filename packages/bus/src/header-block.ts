import { FuzeError } from '@fuze/core';
import type { MsgHdrs } from '@nats-io/transport-node';

// A header name is an RFC 7230 token; a value may not break the line it sits on.
const headerName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const lineBreak = /[\r\n]/;

/**
 * A message's NATS header block (`NATS/1.0`, one `Name: value` line each), encoded once.
 *
 * nats.js builds a `MsgHdrs` map per message, canonicalises every key and encodes the block with
 * a TextEncoder; its publish only ever calls `encode()` on what it is given, so handing it the
 * finished bytes saves that work on every event each hop publishes. The names keep their case,
 * as `MsgHdrs` with exact matching would write them.
 */
export function headerBlock(msgId: string, headers: Readonly<Record<string, string>> | undefined): MsgHdrs {
  let block = `NATS/1.0\r\nNats-Msg-Id: ${checkedValue('Nats-Msg-Id', msgId)}`;
  if (headers !== undefined) {
    for (const name in headers) {
      if (!headerName.test(name)) throw unsendable(name);
      block += `\r\n${name}: ${checkedValue(name, headers[name]!)}`;
    }
  }
  const bytes = Buffer.from(`${block}\r\n\r\n`);
  return { encode: () => bytes } as unknown as MsgHdrs;
}

function checkedValue(name: string, value: string): string {
  if (lineBreak.test(value)) throw unsendable(name);
  return value.trim();
}

function unsendable(name: string): FuzeError {
  return new FuzeError(
    'FUZE_PUBLISH_FAILED',
    `cannot send the NATS header ${JSON.stringify(name)}: names are tokens and values may not hold line breaks`,
  );
}
