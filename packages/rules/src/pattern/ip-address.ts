/** An IP address as a 32-bit (v4) or 128-bit (v6) unsigned integer. */
export interface IpAddress {
  readonly version: 4 | 6;
  readonly value: bigint;
}

/** An inclusive range of addresses of one version, as a CIDR block denotes. */
export interface IpRange {
  readonly version: 4 | 6;
  readonly low: bigint;
  readonly high: bigint;
}

// The shapes event-ruler accepts as IP literals (Constants.IPv4_REGEX / IPv6_REGEX): anything else,
// e.g. a hostname or an IPv4-embedded IPv6 form, is a plain string.
const ipv4Shape = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const ipv6Shape = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): bigint | undefined {
  let value = 0n;
  for (const part of text.split('.')) {
    const octet = Number(part);
    if (part.length > 3 || octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6Groups(text: string): string[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = halves[1] === '' ? [] : (halves[1] as string).split(':');
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...Array<string>(missing).fill('0'), ...tail];
}

function parseIpv6(text: string): bigint | undefined {
  const groups = parseIpv6Groups(text);
  if (groups === undefined) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!hexGroup.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

// The last text parsed: one event value is often tested against several IP patterns in a row.
let lastText: string | undefined;
let lastAddress: IpAddress | undefined;

/**
 * Parses an IPv4 or IPv6 literal, or returns `undefined`. Like Java's InetAddress (which
 * event-ruler uses), an IPv4-mapped IPv6 address (`::ffff:a00:1`) is read as the IPv4 address.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text !== lastText) {
    lastAddress = parseIpLiteral(text);
    lastText = text;
  }
  return lastAddress;
}

function parseIpLiteral(text: string): IpAddress | undefined {
  if (ipv4Shape.test(text)) {
    const value = parseIpv4(text);
    return value === undefined ? undefined : { version: 4, value };
  }
  if (!ipv6Shape.test(text)) return undefined;
  const value = parseIpv6(text);
  if (value === undefined) return undefined;
  if (value >> 32n === 0xffffn) {
    return { version: 4, value: value & 0xffffffffn };
  }
  return { version: 6, value };
}

/** A canonical key for an address, so differently written forms of one address compare equal. */
export function ipAddressKey(address: IpAddress): string {
  return `${address.version}:${address.value.toString(16)}`;
}

/** The key of `text` when it is an IP literal, else `undefined`. */
export function ipKeyOf(text: string): string | undefined {
  const address = parseIpAddress(text);
  return address === undefined ? undefined : ipAddressKey(address);
}

export type CidrParse =
  | { readonly ok: true; readonly range: IpRange }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses `address/bits`. Host bits are masked off (event-ruler PR #89: `10.0.0.7/24` is
 * `10.0.0.0`-`10.0.0.255`). As in event-ruler, the mask must be below the address width
 * (`/0`-`/31`, `/0`-`/127`): a single address is written as a plain string, which matches by IP.
 */
export function parseCidr(text: string): CidrParse {
  const parts = text.split('/');
  if (parts.length !== 2)
    return { ok: false, problem: `"${text}" is not a CIDR block: exactly one "/" is required` };
  const [addressText, bitsText] = parts as [string, string];
  if (!/^[0-9]+$/.test(bitsText)) {
    return { ok: false, problem: `"${text}" is not a CIDR block: the mask must be a non-negative integer` };
  }
  const address = parseIpAddress(addressText);
  if (address === undefined)
    return { ok: false, problem: `"${text}" is not a CIDR block: invalid IP address` };
  const width = address.version === 4 ? 32 : 128;
  const bits = Number(bitsText);
  if (bits >= width) {
    return { ok: false, problem: `"${text}": IPv${address.version} mask bits must be < ${width}` };
  }
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  return {
    ok: true,
    range: { version: address.version, low: address.value & ~hostMask, high: address.value | hostMask },
  };
}

export function ipRangeContains(range: IpRange, address: IpAddress): boolean {
  return range.version === address.version && address.value >= range.low && address.value <= range.high;
}
