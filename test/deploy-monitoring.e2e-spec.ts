import { spawnSync } from 'node:child_process';
import { load } from 'js-yaml';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PROMETHEUS = resolve(__dirname, '../deploy/prometheus');
const promtool = spawnSync('promtool', ['--version']).status === 0;
if (!promtool)
  console.warn('promtool is not installed (Debian: apt-get install prometheus): the alert rule tests are skipped');

/** Runs promtool in `dir`; fails with its whole output. */
function run(dir: string, ...args: string[]): string {
  const result = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

(promtool ? describe : describe.skip)('Prometheus files (promtool)', () => {
  it('the alert rules are valid and pass their unit tests (alerts.test.yml)', () => {
    expect(run(PROMETHEUS, 'check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
    expect(run(PROMETHEUS, 'test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  it('every alert has a unit test that expects it to fire', () => {
    const yaml = (file: string): any => load(readFileSync(join(PROMETHEUS, file), 'utf8'));
    const alerts = yaml('alerts.yml').groups.flatMap((g: any) => g.rules.map((r: any) => r.alert));
    const tests = yaml('alerts.test.yml').tests.flatMap((t: any) =>
      t.alert_rule_test.filter((a: any) => a.exp_alerts.length > 0).map((a: any) => a.alertname),
    );
    expect([...new Set(tests)].sort()).toEqual([...alerts].sort());
  });

  it('the scrape config for deployments without Kubernetes is valid', () => {
    // Its token file is the operator's; a placeholder stands in for it.
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    try {
      for (const file of ['prometheus.yml', 'alerts.yml']) copyFileSync(join(PROMETHEUS, file), join(dir, file));
      writeFileSync(join(dir, 'metrics-token'), 'placeholder-token-0123456789');
      expect(run(dir, 'check', 'config', 'prometheus.yml')).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
