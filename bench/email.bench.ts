/**
 * A notification to N recipients through a local SMTP server (npm smtp-server, in-process),
 * against raw nodemailer with the same pooled connections:
 *   ours — POST /notifications, time until the task is SUCCESS (every delivery recorded SENT);
 *   raw  — nodemailer's SMTP pool sending N messages, nothing recorded.
 * Memory (RSS, and live heap after a full GC) is sampled every 2 s while ours runs. The SMTP server runs in a
 * process of its own (this file with `--sink`), as a real one would, so it does not compete
 * with the service for the event loop.
 * Usage: npm run bench:email [-- N]   (default N = 10000; BENCH_SMTP_POOL_SIZE, default 5)
 */
import 'reflect-metadata';
import { createTransport } from 'nodemailer';
import { ChildProcess, fork } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { SendNotificationTask } from '../src/email/email.tasks';
import { EmailTemplates } from '../src/email/email-templates';
import { TaskSubmissionService } from '../src/tasks/submit/task-submission.service';
import { SmtpSink } from '../test/support/smtp-sink';
import { createBenchDatabase, fmt, REDIS_URL, uniquePrefix } from './support';

const N = Number(process.argv[2] ?? 10_000);
const POOL = Number(process.env.BENCH_SMTP_POOL_SIZE ?? 5);
const ADMIN_KEY = 'bench-admin-key-0123456789';
const SUBJECT = 'Maintenance tonight';
const CONTEXT = { title: 'Maintenance', body: 'The service pauses at 22:00.' };
/** The same rendered message for the raw comparison. */
const BODY = EmailTemplates.load(join(__dirname, '../src/email/templates')).render('notification', 'en', CONTEXT);
const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 1);
// A full GC before each heap sample, so the samples show live memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The SMTP server in a child process: `url`, and `accepted()` asks it how many messages it took. */
interface RemoteSink {
  url: string;
  accepted(): Promise<number>;
  stop(): void;
}

async function startRemoteSink(): Promise<RemoteSink> {
  const child: ChildProcess = fork(__filename, ['--sink'], {
    execArgv: ['-r', '@swc-node/register'],
    stdio: 'inherit',
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m: any) => resolve(m.url)));
  return {
    url,
    accepted: () =>
      new Promise((resolve) => {
        child.once('message', (m: any) => resolve(m.accepted));
        child.send('count');
      }),
    stop: () => child.kill(),
  };
}

async function runSink() {
  const sink = await SmtpSink.start({ keepMessages: false });
  process.on('message', () => process.send!({ accepted: sink.accepted }));
  process.send!({ url: sink.url });
}

async function raw(sink: RemoteSink): Promise<number> {
  const transport = createTransport({ url: sink.url, pool: true, maxConnections: POOL, maxMessages: 1000 });
  const before = await sink.accepted();
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < N; i++) {
    const p = transport
      .sendMail({ from: 'bench@example.test', to: `raw${i}@example.test`, subject: SUBJECT, ...BODY })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 100) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const rate = N / ((performance.now() - started) / 1000);
  transport.close();
  const got = (await sink.accepted()) - before;
  if (got !== N) throw new Error(`raw: the sink got ${got} of ${N}`);
  return rate;
}

async function main() {
  const sink = await startRemoteSink();
  const db = await createBenchDatabase();
  const service = await startService(
    AppConfig.fromEnv({
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: uniquePrefix('email'),
      ADMIN_API_KEY: ADMIN_KEY,
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: `/tmp/task-service-bench-${process.pid}`,
      SMTP_URL: sink.url,
      SMTP_POOL_SIZE: String(POOL),
      PATH: process.env.PATH,
      // Tuning knobs pass through (defaults otherwise).
      EMAIL_SEND_CONCURRENCY: process.env.EMAIL_SEND_CONCURRENCY,
      EMAIL_BATCH_SIZE: process.env.EMAIL_BATCH_SIZE,
      QUEUE_CONCURRENCY: process.env.QUEUE_CONCURRENCY,
    }),
  );
  const baseUrl = `http://127.0.0.1:${(service.app.getHttpServer().address() as AddressInfo).port}`;
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
  try {
    const recipients = Array.from({ length: N }, (_, i) => `user${i}@example.test`);
    const body = JSON.stringify({ recipients, subject: SUBJECT, template: 'notification', context: CONTEXT });
    const samples: { rss: number; heap: number }[] = [];
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      samples.push({ rss: m.rss, heap: m.heapUsed });
    }, 2000);
    const before = await sink.accepted();
    const elu = performance.eventLoopUtilization();
    const started = performance.now();
    const submitted = await fetch(`${baseUrl}/notifications`, { method: 'POST', headers, body });
    let id: string;
    let via = 'HTTP';
    if (submitted.status === 413) {
      // The HTTP JSON body limit (100 KB unless the platform raises it) is below N addresses:
      // submit through the same service POST /notifications calls.
      via = `in-process submit (POST of ${fmt(body.length / 1024)} KB gave 413)`;
      const { run } = await service.app
        .get(TaskSubmissionService)
        .submitByName({ name: SendNotificationTask.name, args: JSON.parse(body), owner: null });
      id = run.id;
    } else if (submitted.status === 202) {
      id = ((await submitted.json()) as { id: string }).id;
    } else {
      throw new Error(
        `POST /notifications (${fmt(body.length / 1024)} KB) gave ${submitted.status}: ${(await submitted.text()).slice(0, 300)}`,
      );
    }
    let task: any;
    do {
      await new Promise((r) => setTimeout(r, 200));
      task = await (await fetch(`${baseUrl}/tasks/${id}`, { headers })).json();
    } while (!['SUCCESS', 'FAILURE', 'REVOKED'].includes(task.state));
    const seconds = (performance.now() - started) / 1000;
    const busy = performance.eventLoopUtilization(elu).utilization;
    clearInterval(sampler);
    const got = (await sink.accepted()) - before;
    if (task.state !== 'SUCCESS' || task.result.sent !== N || got !== N) {
      throw new Error(
        `Notification ended ${task.state}: ${JSON.stringify(task.result ?? task.error).slice(0, 300)}; the sink got ${got}`,
      );
    }
    const ours = N / seconds;
    const third = Math.max(1, Math.floor(samples.length / 3));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const heapFirst = avg(samples.slice(0, third).map((s) => s.heap));
    const heapLast = avg(samples.slice(-third).map((s) => s.heap));
    const rawRate = process.env.BENCH_SKIP_RAW ? NaN : await raw(sink);
    console.log(`E-mail notification to ${fmt(N)} recipients, ${POOL} pooled SMTP connections, local smtp-server`);
    console.log(
      `  ours (${via} → ${Math.ceil(N / 50)} deliver tasks → SMTP, every delivery recorded): ${fmt(seconds, 1)} s, ${fmt(ours)} messages/s`,
    );
    console.log(
      `  raw nodemailer pool, same message (no records, no queue): ${fmt(rawRate)} messages/s  (ours = ${fmt(ours / rawRate, 2)}x raw)`,
    );
    console.log(
      `  memory while sending: RSS ${mb(Math.min(...samples.map((s) => s.rss)))}–${mb(Math.max(...samples.map((s) => s.rss)))} MB; live heap first third ${mb(heapFirst)} MB, last third ${mb(heapLast)} MB, peak ${mb(Math.max(...samples.map((s) => s.heap)))} MB`,
    );
    console.log(`  event loop of the service process busy ${fmt(busy * 100)}% of the time (100% = CPU-bound)`);
    console.log(`  target ≥ 200 messages/s: ${ours >= 200 ? 'met' : 'NOT met'}`);
  } finally {
    await service.stop();
    sink.stop();
    await db.drop();
  }
}

(process.argv[2] === '--sink' ? runSink() : main()).then(
  () => process.argv[2] !== '--sink' && process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
