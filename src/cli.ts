#!/usr/bin/env node
import 'reflect-metadata';
import { parseCliArgs, USAGE, UsageError } from './cli/cli-args';
import { CliOutput } from './cli/cli-output';
import { runApiKey, runMigrate } from './cli/database.commands';
import { runInspect, runQueueControl, runStatus } from './cli/inspect.commands';
import { ServiceClient } from './cli/service-client';
import { runWorker } from './cli/worker.command';
import { AppConfig } from './config/app-config';

/**
 * The operator's command line, mirroring the old `celery` commands. Commands about a running
 * deployment go through its HTTP API (same authorisation and logs as any admin call, no
 * transport credentials on the operator's machine); `migrate` and `apikey` open the database.
 */
async function main(argv: string[]): Promise<void> {
  const args = parseCliArgs(argv);
  const [command] = args.command;
  if (args.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  const out = new CliOutput(args.json);
  switch (command) {
    case 'worker':
      return runWorker(args);
    case 'inspect':
      return runInspect(args, out, new ServiceClient(args, process.env));
    case 'status':
      return runStatus(args, out, new ServiceClient(args, process.env));
    case 'purge':
    case 'pause':
    case 'resume':
      return runQueueControl(args, out, new ServiceClient(args, process.env));
    case 'migrate':
      return runMigrate(AppConfig.fromEnv(process.env), out);
    case 'apikey':
      return runApiKey(args, AppConfig.fromEnv(process.env), out);
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
