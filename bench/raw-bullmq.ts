/**
 * Raw BullMQ with no records, on Redis or on BullMQ's PostgreSQL backend: the baseline the
 * pipeline is measured against. Shared by `npm run bench` and `npm run bench:peers`.
 */
import { Job, withBackend } from 'bullmq';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep, uniquePrefix, untilCount } from './support';

export type RawBackend = Parameters<typeof withBackend>[0];

export interface RawOptions {
  backend: RawBackend;
  connection: unknown;
  n: number;
  concurrency: number;
  latencySamples: number;
  /**
   * How a producer learns of completion: `queue-events` (Redis; `waitUntilFinished`) or the
   * worker's `completed` event (the PostgreSQL backend's QueueEvents can miss events).
   */
  completion: 'queue-events' | 'worker-event';
  /** 50 ms sleep tasks drained by a worker of `concurrency` (skipped when absent). */
  io?: { n: number; ms: number; concurrency: number };
}

export interface RunResult {
  drain: number;
  e2e: number;
  /** Sorted, ms. */
  latencies: number[];
  io?: number;
}

export async function runRawBullmq(options: RawOptions): Promise<RunResult> {
  const { Queue, Worker, QueueEvents } = withBackend(options.backend as never) as ReturnType<typeof withBackend>;
  const { n, concurrency } = options;
  const connection = options.connection as never;
  const prefix = uniquePrefix('raw');
  const queue = new Queue('default', { connection, prefix });
  const fill = async (count: number, data: (i: number) => object = (i) => ({ i })) => {
    for (let i = 0; i < count; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ name: 'noop', data: data(i + j) })),
      );
    }
  };
  const waiting = new Map<string, () => void>();
  let done = 0;
  const worker = new Worker('default', async (job: Job) => job.data, {
    connection,
    prefix,
    concurrency,
    autorun: false,
    removeOnComplete: { age: 3600, count: 10_000 },
  });
  worker.on('completed', (job: Job) => {
    done++;
    waiting.get(job.id!)?.();
  });

  await fill(n);
  let start = performance.now();
  void worker.run();
  await untilCount(() => done, n);
  const drain = n / ((performance.now() - start) / 1000);

  done = 0;
  start = performance.now();
  await fill(n);
  await untilCount(() => done, n);
  const e2e = n / ((performance.now() - start) / 1000);

  const events = options.completion === 'queue-events' ? new QueueEvents('default', { connection, prefix }) : undefined;
  await events?.waitUntilReady();
  const latencies: number[] = [];
  for (let i = 0; i < options.latencySamples; i++) {
    const t0 = performance.now();
    if (events) {
      const job = await queue.add('noop', { i });
      await job.waitUntilFinished(events);
    } else {
      // Registered before the add can complete: the id is chosen here.
      const id = `lat-${i}`;
      const finished = new Promise<void>((resolve) => waiting.set(id, resolve));
      await queue.add('noop', { i }, { jobId: id });
      await finished;
      waiting.delete(id);
    }
    latencies.push(performance.now() - t0);
  }
  await events?.close();
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  const io = options.io ? await rawIo(options, Queue, Worker) : undefined;
  return { drain, e2e, latencies: latencies.sort((a, b) => a - b), io };
}

/** Sleep tasks already queued, drained by one worker of high concurrency: tasks/s. */
async function rawIo(
  options: RawOptions,
  Queue: ReturnType<typeof withBackend>['Queue'],
  Worker: ReturnType<typeof withBackend>['Worker'],
): Promise<number> {
  const { n, ms, concurrency } = options.io!;
  const connection = options.connection as never;
  const prefix = uniquePrefix('raw-io');
  const queue = new Queue('default', { connection, prefix });
  for (let i = 0; i < n; i += 1000)
    await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'sleep', data: { ms } })));
  let done = 0;
  const worker = new Worker('default', async (job: Job<{ ms: number }>) => sleep(job.data.ms), {
    connection,
    prefix,
    concurrency,
    autorun: false,
    removeOnComplete: { age: 3600, count: 10_000 },
  });
  worker.on('completed', () => done++);
  const start = performance.now();
  void worker.run();
  await untilCount(() => done, n);
  const rate = n / ((performance.now() - start) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

/** RSS of a bare Node process with one raw BullMQ Redis worker per queue, after `settleMs`. */
export async function rawIdleWorkerRssMb(
  redis: { host: string; port: number },
  queues: readonly string[],
  settleMs = 5000,
) {
  const script = `const { Worker } = require('bullmq');
for (const q of ${JSON.stringify(queues)}) new Worker(q, async (job) => job.data, { connection: { host: ${JSON.stringify(redis.host)}, port: ${redis.port}, maxRetriesPerRequest: null }, prefix: ${JSON.stringify(uniquePrefix('raw-idle'))} });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: __dirname, stdio: 'ignore' });
  await sleep(settleMs);
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}
