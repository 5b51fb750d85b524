import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { migrations } from '../src/database/migrations';
import { builtFile, spawnService } from './support/processes';
import { testEnvironment } from './support/test-service';

const ROOT = resolve(__dirname, '..');

/** `node cli.js migrate --json` of this run's build; resolves with its exit code and output. */
function migrate(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [builtFile('cli.js'), 'migrate', '--json'], {
      cwd: ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    child.once('exit', (code) => done({ code, output }));
  });
}

/**
 * A fresh install or a release with a new migration starts every replica at once (and, in
 * Kubernetes, every pod's `cli migrate` initContainer). Without a lock each ran the same
 * `CREATE TABLE` and all but one crashed (`relation "…" already exists`).
 */
describe('Migrations run once when many processes start together on an empty database', () => {
  const admin = new Client({ connectionString: process.env.TEST_POSTGRES_URL });
  const database = `tasks_e2e_migrate_${randomBytes(4).toString('hex')}`;
  const url = new URL(process.env.TEST_POSTGRES_URL!);
  url.pathname = `/${database}`;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('4 `cli migrate` and 2 starting services all succeed, and each migration is recorded once', async () => {
    const env = testEnvironment({ DATABASE_URL: url.toString(), LOG_LEVEL: 'info' });
    // All six are started before any of them is awaited.
    const clis = Array.from({ length: 4 }, () => migrate(env));
    const services = [spawnService(env, ['--role', 'api']), spawnService(env, ['--role', 'worker'])];
    try {
      const runs = await Promise.all(clis);
      for (const run of runs) expect(run).toEqual({ code: 0, output: expect.stringContaining('"applied"') });
      await Promise.all(services.map((s) => s.waitFor(/listening on|workers running/, 90_000)));
      for (const service of services) expect(service.output()).not.toMatch(/already exists|Failed to start/);

      // Exactly one process applied the whole list; the others found nothing to do.
      const applied = runs.map((r) => JSON.parse(r.output.slice(r.output.indexOf('{'))).applied as string[]);
      const serviceApplied = services.map((s) => (s.output().match(/Applied (\d+) migration/) ?? [])[1]);
      const total = applied.reduce((n, a) => n + a.length, 0) + serviceApplied.reduce((n, c) => n + Number(c ?? 0), 0);
      expect(total).toBe(migrations.length);

      const check = new Client({ connectionString: url.toString() });
      await check.connect();
      const { rows } = await check.query('SELECT name, count(*)::int AS n FROM migrations GROUP BY name');
      await check.end();
      expect(rows).toHaveLength(migrations.length);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      for (const service of services) service.child.kill('SIGTERM');
      await Promise.all(services.map((s) => s.exited));
    }
  });
});
