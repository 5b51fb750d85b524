/**
 * The old system's figures from the Celery peer benchmark (`../shared/peers/celery/run.sh`, or
 * `CELERY_PEER_DIR`): it is run as is and its summary lines are parsed. Missing files or Debian
 * packages give a reason to print instead of numbers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface CeleryVariant {
  variant: string;
  e2e?: number;
  p50?: number;
  p99?: number;
  rssMb?: number;
  pssMb?: number;
  sleep50?: number;
  bgLoad?: number;
  line: string;
}

export type CeleryOutcome = { skipped: string } | { variants: Map<string, CeleryVariant>; lines: string[] };

export function celeryPeerDir(root: string): string {
  return process.env.CELERY_PEER_DIR ?? join(root, '..', 'shared', 'peers', 'celery');
}

/** Why the peer cannot run here, or undefined when it can. */
export function celeryMissing(dir: string): string | undefined {
  if (!existsSync(join(dir, 'run.sh'))) return `no ${join(dir, 'run.sh')} (set CELERY_PEER_DIR)`;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import celery, redis, gevent'], { stdio: 'ignore' });
  } catch {
    return 'Debian packages missing: apt-get install -y python3-celery python3-redis python3-gevent';
  }
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'redis-server is not installed';
  }
  return undefined;
}

const number = (text: string, pattern: RegExp) => {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
};

/** One `celery <variant> noop: …` line of run.sh's summary. */
export function parseCeleryLine(line: string): CeleryVariant | undefined {
  const head = /^celery (\S+)(?: \(acks_late\))? noop: (.*)$/.exec(line.trim());
  if (!head) return undefined;
  const body = head[2];
  return {
    variant: head[1],
    e2e: number(body, /e2e (\d+(?:\.\d+)?)\/s/),
    p50: number(body, /rt p50 (\d+(?:\.\d+)?)ms/),
    p99: number(body, /p99 (\d+(?:\.\d+)?)ms/),
    rssMb: number(body, /rss (\d+(?:\.\d+)?)MB/),
    pssMb: number(body, /pss (\d+(?:\.\d+)?)MB/),
    sleep50: number(body, /sleep50 x\d+ (\d+(?:\.\d+)?)\/s/),
    bgLoad: number(body, /bg-load (\d+(?:\.\d+)?) cores/),
    line: line.trim(),
  };
}

/**
 * Runs run.sh with `VARIANTS` (default: prefork-2, the old system's pool; threads-50, its
 * smallest worker; gevent-200, its I/O pool) and `CELERY_N` tasks; never throws.
 */
export async function runCelery(root: string): Promise<CeleryOutcome> {
  const dir = celeryPeerDir(root);
  const missing = celeryMissing(dir);
  if (missing) return { skipped: missing };
  const env = {
    ...process.env,
    VARIANTS: process.env.CELERY_VARIANTS ?? 'prefork-2 threads-50 gevent-200',
    N: process.env.CELERY_N ?? '10000',
    RT_N: process.env.CELERY_RT_N ?? '500',
    // run.sh waits for an idle box and reruns noisy variants: on a shared machine that alone took
    // 14 minutes. Off by default here (the load is printed with the table); set them to restore it.
    QUIET_WAIT: process.env.QUIET_WAIT ?? '0',
    RETRY_BEFORE_S: process.env.RETRY_BEFORE_S ?? '0',
  };
  const output = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(join(dir, 'run.sh'), [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', (error) => resolve({ code: -1, text: `${text}\n${error.message}` }));
    child.on('close', (code) => resolve({ code, text }));
  });
  const lines = output.text.split('\n').filter((l) => l.startsWith('celery ') || l.startsWith('results:'));
  const variants = new Map<string, CeleryVariant>();
  for (const line of lines) {
    const parsed = parseCeleryLine(line);
    if (parsed) variants.set(parsed.variant, parsed);
  }
  if (variants.size === 0)
    return { skipped: `run.sh exited ${output.code} without summary lines: ${output.text.slice(-300)}` };
  return { variants, lines };
}
