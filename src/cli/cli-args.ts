import { parseArgs } from 'node:util';

/** Every flag any command takes; each command reads the ones it needs. */
export const CLI_OPTIONS = {
  json: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  url: { type: 'string' },
  key: { type: 'string' },
  queues: { type: 'string', short: 'Q' },
  concurrency: { type: 'string', short: 'c' },
  name: { type: 'string' },
  role: { type: 'string' },
  window: { type: 'string' },
} as const;

export interface CliArgs {
  command: string[];
  json: boolean;
  yes: boolean;
  help: boolean;
  url?: string;
  key?: string;
  queues?: string;
  concurrency?: string;
  name?: string;
  role?: string;
  window?: string;
}

/** A mistake in how the command was typed: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function parseCliArgs(argv: string[]): CliArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: CLI_OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { ...(values as Omit<CliArgs, 'command'>), command: positionals };
  } catch (error) {
    throw new UsageError(error.message);
  }
}

export const USAGE = `Usage: task-service <command> [options]   (or: npm run cli -- <command> [options])

Workers
  worker [--queues a,b] [--concurrency N]   start a worker process (celery worker -Q a,b -c N)

Inspect a running deployment (over its HTTP API: --url or TASK_SERVICE_URL, --key or TASK_SERVICE_API_KEY/ADMIN_API_KEY)
  inspect active                      tasks running on each live worker (celery inspect active)
  inspect stats [--window MINUTES]    processed/failed/retried and runtime p50/p95 per queue and task (celery inspect stats)
  inspect registered                  every task with its queue, retries and timeout (celery_app.tasks.keys())
  inspect queues                      job counts per queue and state, paused flag, oldest waiting age
  status <task-id>                    state and result of one task (AsyncResult(id).state)
  purge <queue> [--yes]               remove waiting and delayed tasks of a queue; they become REVOKED (celery control purge)
  pause <queue> | resume <queue>      stop or restart a queue everywhere

Database (DATABASE_URL, or the embedded PostgreSQL under DATA_DIR)
  migrate                             apply pending schema migrations
  apikey create --name NAME --role admin|client
  apikey list
  apikey revoke <id-or-name>

Options
  --json      machine-readable output
  --yes, -y   do not ask for confirmation
`;
