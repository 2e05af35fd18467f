import { describe, expect, it } from 'vitest';
import { type CloudEventLike, compilePattern } from '../src/index.js';

const matches = (pattern: unknown, event: CloudEventLike): boolean => compilePattern(pattern).matches(event);

describe('$or', () => {
  it('ORs its branches and ANDs them with the other keys', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matches(pattern, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(matches(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
    expect(matches(pattern, { source: 'aws.ec2', metricName: 'ReadLatency' })).toBe(false);
  });

  it('supports branches that are ANDs, and nested $or', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    };
    const base = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' };
    expect(matches(pattern, { ...base, spaceId: 1000 })).toBe(true);
    expect(matches(pattern, { ...base, metricId: 1234 })).toBe(true);
    expect(matches(pattern, base)).toBe(false);
    expect(matches(pattern, { source: 'aws.cloudwatch', scope: 'Service' })).toBe(true);
  });

  it('works below the top level, with paths relative to where it sits', () => {
    const pattern = { data: { $or: [{ a: [1] }, { b: { c: [2] } }] } };
    expect(matches(pattern, { data: { a: 1 } })).toBe(true);
    expect(matches(pattern, { data: { b: { c: 2 } } })).toBe(true);
    expect(matches(pattern, { a: 1, data: {} })).toBe(false);
  });

  it('combines parallel $ors as an AND of ORs', () => {
    const pattern = {
      $or: [{ metricName: ['CPU'] }, { namespace: ['EC2'] }],
      data: { $or: [{ source: ['cw'] }, { kind: ['alarm'] }] },
    };
    expect(matches(pattern, { namespace: 'EC2', data: { kind: 'alarm' } })).toBe(true);
    expect(matches(pattern, { namespace: 'EC2', data: {} })).toBe(false);
  });

  it('can mix operators across branches', () => {
    const pattern = { data: { $or: [{ total: [{ numeric: ['>', 100] }] }, { vip: [true] }] } };
    expect(matches(pattern, { data: { total: 150 } })).toBe(true);
    expect(matches(pattern, { data: { total: 50, vip: true } })).toBe(true);
    expect(matches(pattern, { data: { total: 50, vip: false } })).toBe(false);
  });

  it('expands to one sub-rule per combination', () => {
    const pattern = { $or: [{ a: [1] }, { b: [1] }], c: { $or: [{ d: [1] }, { e: [1] }, { f: [1] }] } };
    expect(compilePattern(pattern).parsed.subRules).toHaveLength(6);
  });
});
