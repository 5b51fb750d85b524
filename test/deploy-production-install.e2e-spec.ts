import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitUntil } from './support/processes';
import { testEnvironment } from './support/test-service';

const ROOT = resolve(__dirname, '..');

/**
 * What the image's runtime stage holds, without Docker: this run's build (dist/), package.json
 * and the production dependencies alone, installed from the lockfile exactly as the Dockerfile's
 * prod-deps stage does (`npm ci --omit=dev`, npm's cache first). Outside the repository, so no
 * dev dependency in ./node_modules can stand in for a missing runtime one (as yauzl once did).
 */
describe('The production install boots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'task-service-prod-'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm ci --omit=dev, then node dist/main.js serves /health/ready against PostgreSQL and Redis', async () => {
    cpSync(process.env.TEST_BUILD_DIR!, join(dir, 'dist'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, file), join(dir, file));
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: 'inherit',
    });
    // Dev tools did not come along (typescript does: @nestjs/swagger depends on it).
    for (const devOnly of ['@swc/core', 'jest', 'eslint', 'prettier', '@nestjs/cli'])
      expect(existsSync(join(dir, 'node_modules', devOnly))).toBe(false);

    const port = await freePort();
    const env = testEnvironment({ PORT: String(port), NODE_ENV: 'production', LOG_LEVEL: 'warn' });
    const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: env as NodeJS.ProcessEnv });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`The service exited ${child.exitCode}:\n${output}`);
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
          return response?.status === 200;
        },
        90_000,
        250,
      );
      // The CLI loads from the same install.
      const help = execFileSync(process.execPath, ['dist/cli.js', '--help'], { cwd: dir, encoding: 'utf8' });
      expect(help).toContain('migrate');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
