#!/usr/bin/env node
import 'reflect-metadata';
import { parseCliArgs, USAGE, UsageError } from './cli/cli-args';
import { CliOutput } from './cli/cli-output';

/**
 * The operator's command line, mirroring the old `celery` commands. Commands about a running
 * deployment go through its HTTP API (same authorisation and logs as any admin call, no
 * transport credentials on the operator's machine); `migrate` and `apikey` open the database.
 * Each command loads only its own modules: an inspect should not pay for booting Nest.
 */
async function main(argv: string[]): Promise<void> {
  const args = parseCliArgs(argv);
  const [command] = args.command;
  if (args.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  const out = new CliOutput(args.json);
  const client = async () => new (await import('./cli/service-client')).ServiceClient(args, process.env);
  const config = async () => (await import('./config/app-config')).AppConfig.fromEnv(process.env);
  switch (command) {
    case 'worker':
      return (await import('./cli/worker.command')).runWorker(args);
    case 'inspect':
      return (await import('./cli/inspect.commands')).runInspect(args, out, await client());
    case 'status':
      return (await import('./cli/inspect.commands')).runStatus(args, out, await client());
    case 'purge':
    case 'pause':
    case 'resume':
      return (await import('./cli/inspect.commands')).runQueueControl(args, out, await client());
    case 'migrate':
      return (await import('./cli/database.commands')).runMigrate(await config(), out);
    case 'apikey':
      return (await import('./cli/database.commands')).runApiKey(args, await config(), out);
    default:
      throw new UsageError(`Unknown command ${command}`);
  }
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`${error.message}\n`);
  process.exit(error.message?.startsWith('Invalid configuration') ? 78 : 1);
});
