import { createInterface } from 'node:readline/promises';
import { CliArgs, UsageError } from './cli-args';
import { CliOutput, seconds, table } from './cli-output';
import { ServiceClient } from './service-client';

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The commands that ask a running deployment: inspect, status, purge, pause, resume. */
export async function runInspect(args: CliArgs, out: CliOutput, client: ServiceClient): Promise<void> {
  const what = args.command[1];
  if (what === 'active') {
    const { workers } = await client.get('/workers');
    return out.result(workers, () => {
      if (workers.length === 0) return 'No live workers.';
      return workers
        .map((w: any) => {
          const queues = w.queues.map((q: any) => `${q.name}(${q.concurrency})`).join(', ');
          const head = `${w.id}  host=${w.host} pid=${w.pid}  queues: ${queues}  done: ${w.totals.succeeded} ok, ${w.totals.failed} failed, ${w.totals.retried} retried`;
          const tasks =
            w.active.length === 0
              ? '  (idle)'
              : table(
                  ['TASK ID', 'NAME', 'QUEUE', 'ATTEMPT', 'RUNNING'],
                  w.active.map((t: any) => [t.id, t.name, t.queue, t.attempt, seconds(t.runtimeSeconds)]),
                ).replace(/^/gm, '  ');
          return `${head}\n${tasks}`;
        })
        .join('\n\n');
    });
  }
  if (what === 'stats') {
    const window = args.window ? `?windowMinutes=${encodeURIComponent(args.window)}` : '';
    const stats = await client.get(`/stats${window}`);
    const row = (name: string, r: any) => [
      name,
      r.queue,
      r.processed,
      r.succeeded,
      r.failed,
      r.revoked,
      r.retried,
      r.runtimeP50Ms,
      r.runtimeP95Ms,
    ];
    const headers = ['TASK', 'QUEUE', 'PROCESSED', 'OK', 'FAILED', 'REVOKED', 'RETRIES', 'P50 MS', 'P95 MS'];
    return out.result(stats, () =>
      [
        `Last ${stats.windowMinutes} min (${stats.from} .. ${stats.to})`,
        table(headers, [
          ...stats.queues.map((q: any) => row('(all)', q)),
          ...stats.tasks.map((t: any) => row(t.task, t)),
        ]),
      ].join('\n'),
    );
  }
  if (what === 'registered') {
    const tasks = await client.get('/tasks/registered');
    return out.result(tasks, () =>
      table(
        ['TASK', 'QUEUE', 'ATTEMPTS', 'TIMEOUT MS', 'DESCRIPTION'],
        tasks.map((t: any) => [t.name, t.queue, t.maxAttempts, t.timeoutMs, t.description]),
      ),
    );
  }
  if (what === 'queues') {
    const { queues } = await client.get('/queues');
    return out.result(queues, () =>
      table(
        ['QUEUE', 'PAUSED', 'WAITING', 'DELAYED', 'ACTIVE', 'FAILED', 'COMPLETED', 'OLDEST WAITING'],
        queues.map(queueRow),
      ),
    );
  }
  throw new UsageError(`inspect takes active, stats, registered or queues, not ${what ?? 'nothing'}`);
}

export async function runStatus(args: CliArgs, out: CliOutput, client: ServiceClient): Promise<void> {
  const id = args.command[1];
  if (!id) throw new UsageError('status needs a task id');
  if (!TASK_ID.test(id)) throw new UsageError(`status needs a task id (a UUID), not ${id}`);
  const task = await client.get(`/tasks/${encodeURIComponent(id)}`);
  out.result(
    task,
    () =>
      `${task.id}  ${task.name}  ${task.state}  attempts=${task.attempts}\n${JSON.stringify(task.state === 'FAILURE' || task.state === 'REVOKED' ? task.error : (task.result ?? null), null, 2)}`,
  );
}

export async function runQueueControl(args: CliArgs, out: CliOutput, client: ServiceClient): Promise<void> {
  const [action, queue] = args.command;
  if (!queue) throw new UsageError(`${action} needs a queue name`);
  const path = `/queues/${encodeURIComponent(queue)}`;
  if (action === 'purge') {
    const before = await client.get(path);
    const count = before.counts.waiting + before.counts.prioritized + before.counts.delayed;
    if (
      !args.yes &&
      !(await confirm(`Purge queue ${queue}: remove ${count} waiting/delayed task(s) and mark them REVOKED? [y/N] `))
    ) {
      process.stderr.write('Aborted; nothing was purged.\n');
      process.exitCode = 1;
      return;
    }
    const result = await client.post(`${path}/purge`);
    return out.result(
      result,
      () => `Purged ${queue}: removed ${result.removed} job(s), ${result.revoked} task(s) marked REVOKED.`,
    );
  }
  const result = await client.post(`${path}/${action}`);
  out.result(
    result,
    () =>
      `Queue ${queue} is ${result.paused ? 'paused' : 'running'}.\n${table(['QUEUE', 'PAUSED', 'WAITING', 'DELAYED', 'ACTIVE', 'FAILED', 'COMPLETED', 'OLDEST WAITING'], [queueRow(result)])}`,
  );
}

function queueRow(q: any) {
  return [
    q.name,
    q.paused ? 'yes' : 'no',
    q.counts.waiting + q.counts.prioritized,
    q.counts.delayed,
    q.counts.active,
    q.counts.failed,
    q.counts.completed,
    seconds(q.oldestWaitingSeconds),
  ];
}

/** Reads one answer from stdin (a terminal or a pipe); anything but y/yes is a no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await Promise.race([
      rl.question(question),
      new Promise<string>((r) => rl.once('close', () => r(''))),
    ]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
