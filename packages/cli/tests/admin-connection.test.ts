import { FuzeError } from '@fuze/core';
import { describe, expect, it } from 'vitest';
import { describeError } from '../src/admin-connection.js';

describe('describeError', () => {
  it('shows the detail, code and status, then each field problem the detail does not say', () => {
    const err = new FuzeError('FUZE_INVALID_TIMER', 'cron: not a cron expression', {
      details: {
        status: 400,
        problems: [
          { pointer: 'body.cron', message: 'not a cron expression' },
          { pointer: 'body.event.type', message: 'must be string' },
          { pointer: '', message: 'one of at, delay, cron or rate' },
        ],
      },
    });
    expect(describeError(err)).toBe(
      'cron: not a cron expression (FUZE_INVALID_TIMER, HTTP 400)\n' +
        '  - body.event.type: must be string\n' +
        '  - (request): one of at, delay, cron or rate',
    );
  });

  it('leaves out the status of an error no answer came with', () => {
    const err = new FuzeError('FUZE_ADMIN_UNREACHABLE', 'cannot reach the admin API');
    expect(describeError(err)).toBe('cannot reach the admin API (FUZE_ADMIN_UNREACHABLE)');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});
