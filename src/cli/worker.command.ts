import { startService, stopOnSignals } from '../bootstrap';
import { AppConfig } from '../config/app-config';
import { CliArgs } from './cli-args';

/** `worker --queues a,b --concurrency N`: the same process `node dist/main.js --role worker` starts. */
export async function runWorker(args: CliArgs): Promise<void> {
  const overrides: Record<string, string> = { ROLE: 'worker' };
  if (args.queues) overrides.WORKER_QUEUES = args.queues;
  if (args.concurrency) overrides.WORKER_CONCURRENCY = args.concurrency;
  stopOnSignals(await startService(AppConfig.fromEnv(process.env, overrides)));
}
