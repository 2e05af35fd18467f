import { isFuzeError } from '@fuze/core';
import { describe, expect, test } from 'vitest';
import {
  heldEventForBus,
  heldEventTimerKey,
  parseTimerEventId,
  parseTimerRequest,
  sameDefinition,
  scheduleDeclarationToSpec,
  type TimerRequest,
  timerEventId,
  timerFiringEvent,
  timerMessageId,
} from '../src/index.js';

const event = { type: 'com.example.cert.renew', source: '/certs', data: { host: 'example.com' } };

function problemsOf(key: string, request: TimerRequest): Array<{ pointer: string; message: string }> {
  try {
    parseTimerRequest(key, request);
  } catch (err) {
    if (isFuzeError(err, 'FUZE_INVALID_TIMER'))
      return err.details.problems as Array<{ pointer: string; message: string }>;
    throw err;
  }
  throw new Error('expected FUZE_INVALID_TIMER');
}

describe('parseTimerRequest', () => {
  test('accepts each kind of schedule, with defaults', () => {
    expect(parseTimerRequest('cert-renew:example.com', { event, at: '2030-01-01T09:00:00+02:00' })).toEqual({
      key: 'cert-renew:example.com',
      bus: 'default',
      event,
      schedule: { kind: 'at', at: '2030-01-01T07:00:00.000Z' },
      misfire: 'fire-once',
      misfireGraceMs: 60_000,
    });
    expect(parseTimerRequest('a', { event, delay: '30d' }).schedule).toEqual({
      kind: 'delay',
      delayMs: 30 * 86_400_000,
    });
    expect(
      parseTimerRequest('a', { event, cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' }).schedule,
    ).toEqual({
      kind: 'cron',
      cron: '0 9 * * MON-FRI',
      timezone: 'Europe/Paris',
    });
    expect(parseTimerRequest('a', { event, cron: '@hourly' }).schedule).toMatchObject({ timezone: 'UTC' });
    expect(
      parseTimerRequest('a', { event, rate: '6h', misfire: 'skip', misfireGrace: '5m', bus: 'ops' }),
    ).toMatchObject({
      schedule: { kind: 'rate', rateMs: 6 * 3_600_000 },
      misfire: 'skip',
      misfireGraceMs: 300_000,
      bus: 'ops',
    });
  });

  test('every problem names its field', () => {
    expect(problemsOf('a', { event })).toEqual([
      { pointer: 'body', message: 'a timer needs exactly one of at, delay, cron or rate' },
    ]);
    expect(problemsOf('a', { event, at: '2030-01-01T00:00:00Z', rate: '1h' })[0]!.pointer).toBe('body.rate');
    expect(problemsOf('a', { event, at: 'tomorrow' })[0]!.pointer).toBe('body.at');
    expect(problemsOf('a', { event, at: '2030-01-01T09:00:00' })[0]!.message).toMatch(/with a zone/);
    expect(problemsOf('a', { event, cron: '0 9 * *' })[0]).toMatchObject({ pointer: 'body.cron' });
    expect(problemsOf('a', { event, cron: '0 0 30 2 *' })[0]).toMatchObject({
      pointer: 'body.cron',
      message: /never fires/,
    });
    expect(problemsOf('a', { event, cron: '0 9 * * *', timezone: 'Europe/Pariss' })[0]!.pointer).toBe(
      'body.timezone',
    );
    expect(problemsOf('a', { event, rate: '1h', timezone: 'UTC' })[0]!.pointer).toBe('body.timezone');
    expect(problemsOf('a', { event, rate: '500ms' })[0]!.pointer).toBe('body.rate');
    expect(problemsOf('a', { event, delay: 'soon' })[0]!.pointer).toBe('body.delay');
    expect(problemsOf('a', { event, delay: '1s', misfireGrace: 'x' })[0]!.pointer).toBe('body.misfireGrace');
    expect(problemsOf('a', { event, delay: '1s', bus: 'Not A Bus' })[0]!.pointer).toBe('body.bus');
    expect(problemsOf('a b', { event, delay: '1s' })[0]!.pointer).toBe('key');
    expect(problemsOf('delayed:x', { event, delay: '1s' })[0]!.message).toMatch(/reserved/);
  });

  test('the event template: no id/specversion/time, no delayed-delivery extensions, a valid CloudEvent otherwise', () => {
    const pointers = problemsOf('a', {
      event: { ...event, id: '1', time: '2030-01-01T00:00:00Z', delay: '5s', BadName: 1 },
      delay: '1s',
    }).map((p) => p.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining(['body.event.id', 'body.event.time', 'body.event.delay', 'body.event.BadName']),
    );
    expect(problemsOf('a', { event: { type: 'x' }, delay: '1s' })[0]!.pointer).toBe('body.event.source');
  });

  test('rearm: one-shot timers only, an after of 1s to 30d, times 1 to 100', () => {
    expect(parseTimerRequest('a', { event, delay: '1m', rearm: { after: '10m', times: 3 } }).rearm).toEqual({
      afterMs: 600_000,
      times: 3,
    });
    expect(parseTimerRequest('a', { event, delay: '1m', rearm: { after: '10m' } }).rearm).toEqual({
      afterMs: 600_000,
      times: 1,
    });
    expect(
      problemsOf('a', { event, cron: '0 * * * *', rearm: { after: '1m' } }).map((p) => p.pointer),
    ).toEqual(['body.rearm']);
    expect(
      problemsOf('a', { event, delay: '1m', rearm: { after: '500ms', times: 0 } }).map((p) => p.pointer),
    ).toEqual(['body.rearm.after', 'body.rearm.times']);
    expect(
      problemsOf('a', { event, delay: '1m', rearm: {} as { after: string } }).map((p) => p.pointer),
    ).toEqual(['body.rearm.after']);
  });

  test('the system bus is refused: it carries only Fuze events', () => {
    const problems = problemsOf('a', { event, delay: '1s', bus: 'fuze' });
    expect(problems).toEqual([{ pointer: 'body.bus', message: expect.stringContaining('reserved') }]);
  });
});

describe('firing identity', () => {
  test('the event id and Nats-Msg-Id are stable per timer version and due time', () => {
    const due = Date.parse('2030-01-01T09:00:00Z');
    expect(timerEventId('cert-renew:example.com', 3, due)).toBe(
      'cert-renew:example.com@2030-01-01T09:00:00.000Z#3',
    );
    expect(timerMessageId('/certs', 'k', 1, due)).toBe(timerMessageId('/certs', 'k', 1, due));
    expect(timerMessageId('/certs', 'k', 1, due)).not.toBe(timerMessageId('/certs', 'k', 2, due));
    expect(timerMessageId('/certs', 'k', 1, due)).not.toBe(timerMessageId('/certs', 'k', 1, due + 1));
  });

  test('a firing is read back from its event id; other ids are not firings', () => {
    const due = Date.parse('2030-01-01T09:00:00Z');
    for (const key of ['k', 'cert-renew:example.com', 'a@b@c', 'x#1@y']) {
      expect(parseTimerEventId(timerEventId(key, 12, due))).toEqual({ key, generation: 12, dueMs: due });
    }
    for (const id of [
      'order-1',
      'k@2030-01-01T09:00:00Z#1',
      'k@2030-01-01T09:00:00.000Z#',
      '@2030-01-01T09:00:00.000Z#1',
      'k@2030-13-45T09:00:00.000Z#1',
    ]) {
      expect(parseTimerEventId(id)).toBeUndefined();
    }
  });

  test('a firing event is the template plus specversion, id and time = the due time', () => {
    const due = Date.parse('2030-01-01T09:00:00Z');
    expect(timerFiringEvent({ ...event, tenant: 'acme' }, 'k', 1, due)).toEqual({
      specversion: '1.0',
      id: 'k@2030-01-01T09:00:00.000Z#1',
      source: '/certs',
      type: 'com.example.cert.renew',
      time: '2030-01-01T09:00:00.000Z',
      data: { host: 'example.com' },
      tenant: 'acme',
    });
  });

  test('a held event keeps its id and time and loses only the delivery extensions', () => {
    const held = {
      specversion: '1.0' as const,
      id: 'e1',
      source: '/s',
      type: 't',
      time: '2030-01-01T00:00:00Z',
      deliverat: 'x',
      delay: '5s',
      tenant: 'a',
    };
    expect(heldEventForBus(held)).toEqual({
      specversion: '1.0',
      id: 'e1',
      source: '/s',
      type: 't',
      time: '2030-01-01T00:00:00Z',
      tenant: 'a',
    });
    expect(heldEventTimerKey('/s', 'e1')).toMatch(/^delayed:[A-Za-z0-9_-]{32}$/);
    expect(heldEventTimerKey('/s', 'e1')).not.toBe(heldEventTimerKey('/s', 'e2'));
  });
});

describe('schedule documents', () => {
  const declaration = {
    kind: 'Schedule' as const,
    name: 'nightly-report',
    bus: 'default',
    enabled: true,
    key: 'nightly-report',
    event: {
      type: 'com.example.report.due',
      source: '/reports',
      data: { kind: 'nightly' },
      extensions: { tenant: 'acme' },
    },
    timing: { kind: 'cron' as const, cron: '0 2 * * *', timezone: 'Europe/Paris' },
    misfire: 'skip' as const,
    source: { file: 'rules/reports.yaml', line: 12 },
  };

  test('a document becomes a timer spec; extensions sit beside the attributes', () => {
    expect(scheduleDeclarationToSpec(declaration)).toEqual({
      key: 'nightly-report',
      bus: 'default',
      event: {
        type: 'com.example.report.due',
        source: '/reports',
        data: { kind: 'nightly' },
        tenant: 'acme',
      },
      schedule: { kind: 'cron', cron: '0 2 * * *', timezone: 'Europe/Paris' },
      misfire: 'skip',
      misfireGraceMs: 60_000,
    });
    expect(() => scheduleDeclarationToSpec({ ...declaration, key: 'bad key' })).toThrow(
      /rules\/reports\.yaml:12/,
    );
  });

  test('sameDefinition ignores key order in the event and compares a delay as a delay', () => {
    const spec = scheduleDeclarationToSpec(declaration);
    const stored = {
      bus: 'default',
      event: {
        tenant: 'acme',
        data: { kind: 'nightly' },
        source: '/reports',
        type: 'com.example.report.due',
      },
      schedule: { kind: 'cron' as const, cron: '0 2 * * *', timezone: 'Europe/Paris' },
      misfire: 'skip',
      misfireGraceMs: 60_000,
    };
    expect(sameDefinition(stored, spec)).toBe(true);
    expect(sameDefinition({ ...stored, misfire: 'fire-all' }, spec)).toBe(false);
    expect(sameDefinition({ ...stored, event: { ...stored.event, data: { kind: 'weekly' } } }, spec)).toBe(
      false,
    );
    const delayed = scheduleDeclarationToSpec({ ...declaration, timing: { kind: 'delay', delayMs: 60_000 } });
    expect(
      sameDefinition(
        { ...stored, schedule: { kind: 'at', at: '2030-01-01T00:00:00Z', delayMs: 60_000 } },
        delayed,
      ),
    ).toBe(true);
  });
});
