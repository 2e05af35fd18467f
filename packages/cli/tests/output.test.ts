import { describe, expect, it } from 'vitest';
import { formatColumns } from '../src/output/columns.js';
import { ProgressBar } from '../src/output/progress-bar.js';

/** A stream that records what was written, as a terminal (isTTY) or a pipe. */
function recorder(isTTY: boolean): { isTTY: boolean; text: string; write(t: string): void } {
  return {
    isTTY,
    text: '',
    write(t: string) {
      this.text += t;
    },
  };
}

describe('ProgressBar', () => {
  it('redraws one line in place on a terminal and ends it with a newline', () => {
    const out = recorder(true);
    const bar = new ProgressBar(out, 10);
    bar.update(0, 4, 0);
    bar.update(2, 4, 1);
    bar.update(4, 4, 1);
    bar.end();
    expect(out.text).toBe(
      '\r[..........]   0% 0/4' +
        '\r[#####.....]  50% 2/4 (1 failed)' +
        '\r[##########] 100% 4/4 (1 failed)' +
        '\n',
    );
  });

  it('writes one line per tenth reached on a pipe, and nothing more at the end', () => {
    const out = recorder(false);
    const bar = new ProgressBar(out, 10);
    for (let done = 0; done <= 100; done++) bar.update(done, 100, 0);
    bar.end();
    const lines = out.text.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('[..........]   0% 0/100');
    expect(lines[5]).toBe('[#####.....]  50% 50/100');
    expect(lines[10]).toBe('[##########] 100% 100/100');
    expect(out.text.endsWith('\n')).toBe(true);
  });

  it('shows an empty job as done, and never more than 100%', () => {
    const out = recorder(false);
    const bar = new ProgressBar(out, 4);
    bar.update(0, 0, 0);
    bar.update(7, 5, 0);
    expect(out.text).toBe('[####] 100% 0/0\n');
  });
});

describe('formatColumns', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(
      formatColumns([
        ['ID', 'STATE', 'ERROR'],
        ['a-long-id', 'dead', 'HttpError: 503'],
        ['b', 'replayed', ''],
      ]),
    ).toBe(
      ['ID         STATE     ERROR', 'a-long-id  dead      HttpError: 503', 'b          replayed'].join('\n'),
    );
  });
});
