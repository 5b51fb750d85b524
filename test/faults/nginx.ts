import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitUntil } from '../support/processes';

const DEPLOY = resolve(__dirname, '../../deploy/nginx');
/** Debian's nginx-light (installed by `.ci/run` when missing); `NGINX_BIN` names another. */
const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** One line of the access log in the shipped `task_service` format. */
export interface BalancedRequest {
  request: string;
  status: number;
  /** Every process nginx tried, in order, with what each answered (502 for a refused or reset one). */
  attempts: { upstream: string; status: string }[];
}

/**
 * nginx in front of the API processes, run by the test as a child process on a free port with
 * the reference configuration of `deploy/nginx/`: `task-service.conf` as shipped (only its
 * `listen` and log path moved into a temporary prefix) and the upstream list written for the
 * test's ports with the parameters of the shipped example.
 */
export class Nginx {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    /** The `fail_timeout` of the shipped upstream lines: how long a failed process is skipped. */
    readonly failTimeoutMs: number,
    private readonly exited: Promise<void>,
    private readonly output: () => string,
  ) {}

  static async start(upstreamPorts: number[]): Promise<Nginx> {
    if (!existsSync(NGINX_BIN))
      throw new Error(`No nginx at ${NGINX_BIN}: install Debian's nginx-light (.ci/run does) or set NGINX_BIN`);
    const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
    // As root, nginx's workers run as `nobody`: they need to reach the temp directories in here.
    chmodSync(dir, 0o755);
    const port = await freePort();
    const { upstreams, failTimeoutMs } = upstreamList(upstreamPorts);
    writeFileSync(join(dir, 'task-service.upstreams.conf'), upstreams);
    writeFileSync(join(dir, 'task-service.conf'), siteConfig(port, join(dir, 'access.log')));
    writeFileSync(join(dir, 'nginx.conf'), mainConfig(dir));
    const child = spawn(
      NGINX_BIN,
      ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${dir}/nginx.pid;`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('error', (error) => (output += `${error}\n`));
    const nginx = new Nginx(child, dir, `http://127.0.0.1:${port}`, failTimeoutMs, exited, () => output);
    try {
      await waitUntil(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error('nginx exited');
          return accepts(port);
        },
        10_000,
        50,
      );
    } catch (error) {
      const errors = nginx.errorLog();
      await nginx.stop();
      throw new Error(`nginx did not start: ${output}${errors}`, { cause: error });
    }
    return nginx;
  }

  /** The access log so far, parsed. */
  requests(): BalancedRequest[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'access.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const request = /"([^"]*)"/.exec(line)?.[1] ?? '';
        const status = Number(/" (\d{3}) /.exec(line)?.[1] ?? 0);
        const addrs = (/upstream=(.*?) ustatus=/.exec(line)?.[1] ?? '').split(/, | : /).filter((a) => a !== '-');
        const statuses = (/ustatus=(.*?) urt=/.exec(line)?.[1] ?? '').split(/, | : /);
        return { request, status, attempts: addrs.map((upstream, i) => ({ upstream, status: statuses[i] ?? '' })) };
      });
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Why nginx gave up on a process for a request, counted by reason (from its error log). */
  upstreamErrors(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const match of this.errorLog().matchAll(/\[error\] [^*]*\*\d+ (.*?) while (\w+)/g)) {
      const reason = `${match[1].replace(/^\w+\(\) failed /, '')} while ${match[2]}`;
      counts[reason] = (counts[reason] ?? 0) + 1;
    }
    return counts;
  }

  /** nginx's own output and error log, for a failed scenario. */
  tail(chars = 3000): string {
    return `--- nginx\n${this.output().slice(-chars)}${this.errorLog().slice(-chars)}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The shipped site file with only what a test cannot use changed; fails if the template drifted. */
function siteConfig(port: number, accessLog: string): string {
  let text = readFileSync(join(DEPLOY, 'task-service.conf'), 'utf8');
  const replace = (from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`deploy/nginx/task-service.conf no longer contains "${from}"`);
    text = text.replace(from, to);
  };
  replace('listen 8080;', `listen 127.0.0.1:${port};`);
  replace('/var/log/nginx/task-service.access.log', accessLog);
  return text;
}

/** `server` lines for the test's API ports, with the parameters of the shipped example's first line. */
function upstreamList(ports: number[]): { upstreams: string; failTimeoutMs: number } {
  const example = readFileSync(join(DEPLOY, 'task-service.upstreams.conf'), 'utf8');
  const params = /^server\s+\S+\s*([^;]*);/m.exec(example)?.[1]?.trim();
  if (params === undefined) throw new Error('deploy/nginx/task-service.upstreams.conf has no server line');
  const failTimeout = /fail_timeout=(\d+)(ms|s)?/.exec(params);
  // nginx's default fail_timeout is 10 s.
  const failTimeoutMs = failTimeout ? Number(failTimeout[1]) * (failTimeout[2] === 'ms' ? 1 : 1000) : 10_000;
  return { upstreams: ports.map((p) => `server 127.0.0.1:${p} ${params};\n`).join(''), failTimeoutMs };
}

/** The test's own main context: everything nginx would otherwise write under /var is kept in `dir`. */
function mainConfig(dir: string): string {
  return `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    access_log off;
    include task-service.conf;
}
`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      r(true);
    });
    socket.once('error', () => r(false));
  });
}
