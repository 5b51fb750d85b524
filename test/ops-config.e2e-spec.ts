import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtFile } from './support/processes';

describe('A bad configuration at boot (the built service)', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'bad-config-')), 'data');
  afterAll(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

  it('refuses to start, printing every bad variable of every domain in one message', () => {
    const run = spawnSync(process.execPath, [builtFile('main.js')], {
      env: {
        PATH: process.env.PATH,
        DATA_DIR: dataDir,
        // One bad variable in each of three domains: e-mail, file and stats.
        SMTP_POOL_SIZE: 'five',
        CHUNK_TOKENS: '0',
        STATS_SCHEDULE: 'sometimes',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(78); // EX_CONFIG
    expect(run.stderr).toBe(
      [
        'Invalid configuration:',
        '  - CHUNK_TOKENS: CHUNK_TOKENS must not be less than 50',
        '  - SMTP_POOL_SIZE: SMTP_POOL_SIZE must be an integer number',
        '  - STATS_SCHEDULE: STATS_SCHEDULE must be true or false',
        '',
      ].join('\n'),
    );
    expect(run.stdout).toBe('');
    // Nothing started: no embedded PostgreSQL was initialised under DATA_DIR.
    expect(existsSync(dataDir)).toBe(false);
  });
});
