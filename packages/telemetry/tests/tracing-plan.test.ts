import { FuzeError } from '@fuze/core';
import { describe, expect, test } from 'vitest';
import { tracingPlan } from '../src/index.js';

describe('tracingPlan (OTEL_* variables)', () => {
  test('nothing configured: off, so no SDK is loaded', () => {
    expect(tracingPlan({}, 'fuze-gateway')).toEqual({
      enabled: false,
      reason: 'no trace exporter configured',
    });
  });

  test('an OTLP endpoint turns tracing on with http/protobuf by default', () => {
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'fuze-gateway')).toEqual({
      enabled: true,
      serviceName: 'fuze-gateway',
      exporters: [{ kind: 'otlp', protocol: 'http/protobuf' }],
    });
    expect(
      tracingPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, 'fuze').enabled,
    ).toBe(true);
  });

  test('protocol, service name and exporter list', () => {
    expect(
      tracingPlan(
        {
          OTEL_TRACES_EXPORTER: 'otlp,console',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
          OTEL_SERVICE_NAME: 'billing-bus',
        },
        'fuze',
      ),
    ).toEqual({
      enabled: true,
      serviceName: 'billing-bus',
      exporters: [{ kind: 'otlp', protocol: 'grpc' }, { kind: 'console' }],
    });
  });

  test('none and OTEL_SDK_DISABLED switch tracing off even with an endpoint', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(tracingPlan({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'f').enabled).toBe(false);
    expect(tracingPlan({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, 'f').enabled).toBe(false);
  });

  test('every bad variable is reported at once', () => {
    let error: unknown;
    try {
      tracingPlan({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' }, 'f');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FuzeError);
    expect((error as FuzeError).code).toBe('FUZE_CONFIG_INVALID');
    expect((error as Error).message).toContain('OTEL_EXPORTER_OTLP_PROTOCOL="udp"');
    expect((error as Error).message).toContain('"zipkin" is not supported');
  });
});
