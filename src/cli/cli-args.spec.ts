import { parseCliArgs, UsageError } from './cli-args';
import { seconds, table } from './cli-output';

describe('parseCliArgs', () => {
  it('splits the command from its flags', () => {
    expect(parseCliArgs(['worker', '--queues', 'file_tasks,export', '-c', '2'])).toMatchObject({
      command: ['worker'],
      queues: 'file_tasks,export',
      concurrency: '2',
      json: false,
    });
    expect(parseCliArgs(['purge', 'default', '--yes', '--json'])).toMatchObject({
      command: ['purge', 'default'],
      yes: true,
      json: true,
    });
  });

  it('rejects an unknown flag as a usage error', () => {
    expect(() => parseCliArgs(['inspect', 'active', '--bogus'])).toThrow(UsageError);
  });
});

describe('table', () => {
  it('pads columns to their widest cell and shows missing values as -', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', null],
          ['1', 2],
        ],
      ),
    ).toBe(['A    LONGER', '---  ------', 'xyz  -', '1    2'].join('\n'));
  });

  it('prints durations for people', () => {
    expect([seconds(1.25), seconds(125), seconds(7300)]).toEqual(['1.3s', '2m5s', '2h2m']);
  });
});
