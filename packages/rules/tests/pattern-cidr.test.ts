import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);
const on = (value: unknown): CloudEventLike => ({ data: { ip: value } });
const cidr = (block: string) => ({ data: { ip: [{ cidr: block }] } });

describe('cidr', () => {
  it('matches IPv4 addresses inside the block', () => {
    expect(matches(cidr('10.0.0.0/24'), on('10.0.0.255'))).toBe(true);
    expect(matches(cidr('10.0.0.0/24'), on('10.0.0.0'))).toBe(true);
    expect(matches(cidr('10.0.0.0/24'), on('10.0.1.0'))).toBe(false);
    expect(matches(cidr('0.0.0.0/0'), on('255.255.255.255'))).toBe(true);
    expect(matches(cidr('192.168.1.128/31'), on('192.168.1.129'))).toBe(true);
    expect(matches(cidr('192.168.1.128/31'), on('192.168.1.130'))).toBe(false);
  });

  it('masks host bits of the block address (event-ruler PR #89)', () => {
    expect(matches(cidr('10.0.0.77/24'), on('10.0.0.1'))).toBe(true);
  });

  it('matches IPv6 addresses inside the block, in any notation', () => {
    expect(matches(cidr('2001:db8::/32'), on('2001:db8:ffff::1'))).toBe(true);
    expect(matches(cidr('2001:db8::/32'), on('2001:0DB8:0000:0000:0000:0000:0000:0001'))).toBe(true);
    expect(matches(cidr('2001:db8::/32'), on('2001:db9::1'))).toBe(false);
    expect(matches(cidr('::/0'), on('::1'))).toBe(true);
    expect(matches(cidr('fe80::/10'), on('febf::1'))).toBe(true);
    expect(matches(cidr('fe80::/10'), on('fec0::1'))).toBe(false);
  });

  it('reads IPv4-mapped IPv6 addresses as IPv4, like Java InetAddress', () => {
    expect(matches(cidr('10.0.0.0/8'), on('::ffff:a00:1'))).toBe(true);
  });

  it('never matches across IP versions, non-addresses or non-strings', () => {
    expect(matches(cidr('0.0.0.0/0'), on('::1'))).toBe(false);
    expect(matches(cidr('::/0'), on('10.0.0.1'))).toBe(false);
    expect(matches(cidr('10.0.0.0/8'), on('10.0.0'))).toBe(false);
    expect(matches(cidr('10.0.0.0/8'), on('10.0.0.256'))).toBe(false);
    expect(matches(cidr('10.0.0.0/8'), on('host.example'))).toBe(false);
    expect(matches(cidr('10.0.0.0/8'), on(10))).toBe(false);
  });

  it('matches any address of an event array', () => {
    expect(matches(cidr('10.0.0.0/8'), on(['192.168.0.1', '10.1.2.3']))).toBe(true);
  });
});
