/**
 * `npm run chaos [scenario …]`: the fault suite's scenarios (test/faults/scenarios.ts) with the
 * issue's long faults — PostgreSQL and Redis down 30 s, a worker SIGKILLed every 5 s for a
 * minute, every process behind nginx restarted in turn (loadBalancer, on deploy/nginx's
 * config) — and a table of what the client and the records saw. `FAULT_*` variables override
 * the timings; `CHAOS_BUILD_DIR` runs an existing build instead of compiling `src/` first.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CHAOS_TIMINGS,
  faultTimings,
  runScenario,
  ScenarioName,
  ScenarioReport,
  SCENARIOS,
} from '../test/faults/scenarios';
import { fmt, machineLoad } from './support';

const ROOT = resolve(__dirname, '..');

/** Compiles `src/` into a build of this run's own, as the e2e global setup does. */
function build(): { dir: string; remove: boolean } {
  if (process.env.CHAOS_BUILD_DIR) return { dir: resolve(process.env.CHAOS_BUILD_DIR), remove: false };
  const dir = join(ROOT, '.test-build', `chaos-${Date.now().toString(36)}`);
  execFileSync(
    'npx',
    [
      'swc',
      'src',
      '-d',
      dir,
      '--strip-leading-paths',
      '--copy-files',
      '--config-file',
      '.swcrc',
      '--ignore',
      '**/*.spec.ts',
      '--quiet',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  return { dir, remove: true };
}

const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;

function table(reports: ScenarioReport[]): string {
  const head = [
    'scenario',
    'submitted',
    '202',
    'SUCCESS',
    'FAILURE',
    'lost',
    'duplicated',
    'resent after kill',
    '503',
    'no answer',
    'max submit',
    'p99 submit',
    'recovery',
  ];
  const rows = reports.map((r) => [
    r.scenario,
    fmt(r.submitted),
    fmt(r.accepted),
    fmt(r.success),
    fmt(r.failure),
    fmt(r.lost),
    fmt(r.duplicated),
    fmt(r.resentAfterKill),
    fmt(r.unavailable),
    fmt(r.unanswered),
    `${fmt(r.maxLatencyMs)} ms`,
    `${fmt(r.p99LatencyMs)} ms`,
    seconds(r.recoveryMs),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2) as ScenarioName[];
  const unknown = requested.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0)
    throw new Error(`Unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const names = requested.length > 0 ? requested : (Object.keys(SCENARIOS) as ScenarioName[]);
  const timings = faultTimings(CHAOS_TIMINGS);
  const { dir, remove } = build();
  process.env.TEST_BUILD_DIR = dir;
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`timings ${JSON.stringify(timings)}; ${machineLoad()}`);
  const reports: ScenarioReport[] = [];
  try {
    for (const name of names) {
      const report = await runScenario(name, timings, log);
      reports.push(report);
      log(`${name}: ${report.problems.length === 0 ? 'every invariant held' : `${report.problems.length} problems`}`);
      for (const problem of report.problems.slice(0, 20)) log(`  ${problem}`);
      if (report.logTail) {
        const file = join(tmpdir(), `chaos-${name}-${Date.now()}.log`);
        writeFileSync(file, report.logTail);
        log(`  the processes' output and the problem tasks' log lines: ${file}`);
      }
    }
  } finally {
    if (remove) rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\n${table(reports)}\n\n`);
  process.stdout.write(
    'max/p99 submit: latency of the submits sent during the fault; recovery: from the end of the fault until every task accepted before it was final.\n',
  );
  process.exitCode = reports.every((r) => r.problems.length === 0) ? 0 : 1;
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
