import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { celeryCli, CeleryBroker, client, startCeleryBroker, waitUntil } from './celery/celery-support';
import { TaskState } from '../src/tasks/task-state';
import { createAccount } from './credits-helpers';
import { uploadFixture } from './fixtures/file-api';
import { SmtpSink } from './support/smtp-sink';
import { startTestService, TestService } from './support/test-service';

jest.setTimeout(120_000);

/**
 * Unchanged Celery 5 callers (Debian's python3-celery, the old guide's app and configuration)
 * against the service's Celery ingress on a private broker: calls, results, failures, revoke and
 * the operator's `celery inspect` commands.
 */
describe('Celery ingress: the real Celery client against the service', () => {
  let broker: CeleryBroker;
  let sink: SmtpSink;
  let svc: TestService;
  let fileId: string;
  let accountId: string;

  beforeAll(async () => {
    broker = await startCeleryBroker(true);
    sink = await SmtpSink.start();
    svc = await startTestService({
      CELERY_BROKER_URL: broker.url,
      SMTP_URL: sink.url,
      STORAGE_DIR: await mkdtemp(join(tmpdir(), 'celery-e2e-storage-')),
      API_CALLS_ALLOWED_HOSTS: '127.0.0.1',
    });
    // The pidbox subscription is made at boot without holding it up.
    await waitUntil(async () => Number(broker.cli('PUBSUB', 'NUMPAT')) >= 1, 10_000);
    // Celery calls are owned by the first admin key, so the admin's file and account are theirs.
    const upload = await uploadFixture(svc.admin, 'counts.txt');
    fileId = upload.file.id;
    await svc.admin.waitForTask(upload.task!.id);
    accountId = (await createAccount(svc.admin, { externalUserId: 'celery-user' })).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.stop();
    await broker?.stop();
  });

  const plan = (calls: object[]) => client<any[]>(broker.url, 'plan', JSON.stringify(calls));

  it('runs .delay() and send_task calls of every seed task family, and .get() returns their results', async () => {
    const outcomes = await plan([
      { via: 'delay', task: 'tasks.file.process_file', args: [fileId] },
      { via: 'send_task', task: 'tasks.file.analyze_file', kwargs: { file_id: fileId } },
      { via: 'delay', task: 'tasks.file.export_file', args: [[fileId]], kwargs: { name: 'celery-export' } },
      { via: 'send_task', task: 'tasks.email.send_email', args: [['someone@example.com'], 'Hello', 'From Celery'] },
      { via: 'delay', task: 'tasks.credits.grant', args: [accountId, 50], kwargs: { reason: 'welcome' } },
      { via: 'delay', task: 'tasks.api.call', args: ['GET', `${svc.baseUrl}/health/live`] },
      { via: 'send_task', task: 'tasks.stats.collect', kwargs: { interval_minutes: 5 } },
      { via: 'delay', task: 'tasks.system.noop', args: [1, 'two'], kwargs: { three: 3 } },
    ]);
    expect(outcomes.map((o) => [o.state, o.exception])).toEqual(outcomes.map(() => ['SUCCESS', undefined]));
    expect(outcomes[7].result).toEqual({ args: [1, 'two'], three: 3 });
    // After the grant: a consume in keyword form.
    const [consume] = await plan([
      { via: 'send_task', task: 'tasks.credits.consume', kwargs: { account_id: accountId, amount: 20 } },
    ]);
    expect(consume.state).toBe('SUCCESS');
    expect(sink.messages.flatMap((m) => m.to)).toContain('someone@example.com');

    // The record id is the Celery task id; positional and snake_case arguments became the payload.
    const processed = (await svc.admin.get(`/tasks/${outcomes[0].id}`)).body;
    expect(processed).toMatchObject({ id: outcomes[0].id, name: 'tasks.file.process_file', state: 'SUCCESS' });
    expect(processed.args).toEqual({ fileId });
    const consumed = (await svc.admin.get(`/tasks/${consume.id}`)).body;
    expect(consumed.args).toEqual({ accountId, amount: 20 });
    const exported = (await svc.admin.get(`/tasks/${outcomes[2].id}`)).body;
    expect(exported.args).toEqual({ fileIds: [fileId], name: 'celery-export' });
  });

  it('honours a countdown, and revokes a call whose expires passes before it starts', async () => {
    const [outcome, expired, prioritised] = await plan([
      { via: 'apply_async', task: 'tasks.system.sleep', args: [10], options: { countdown: 2 } },
      { via: 'apply_async', task: 'tasks.system.sleep', args: [10], options: { countdown: 3, expires: 1 } },
      // kombu puts it on the priority sub-list `celery\x06\x163` (priority 5 rounds down to step 3).
      { via: 'apply_async', task: 'tasks.system.noop', args: [1], options: { priority: 5 } },
    ]);
    expect(prioritised.state).toBe('SUCCESS');
    expect((await svc.admin.get(`/tasks/${prioritised.id}`)).body.priority).toBe(5);
    expect(outcome.state).toBe('SUCCESS');
    expect(expired.state).toBe('REVOKED');
    expect(expired.exception).toMatchObject({ type: 'TaskRevokedError', args: ['expired'] });
    expect((await svc.admin.get(`/tasks/${expired.id}`)).body).toMatchObject({ state: 'REVOKED', startedAt: null });
    const record = (await svc.admin.get(`/tasks/${outcome.id}`)).body;
    // The record waits for the eta the caller computed (2 s after its call, a little less after the ingress took it).
    expect(Date.parse(record.runAt) - Date.parse(record.createdAt)).toBeGreaterThan(1000);
    expect(Date.parse(record.startedAt)).toBeGreaterThanOrEqual(Date.parse(record.runAt));
  });

  it('reports failures as Celery does: the exception, NotRegistered, TypeError, a timeout, refused canvas', async () => {
    const outcomes = await plan([
      { via: 'delay', task: 'tasks.system.fail', kwargs: { message: 'boom', unrecoverable: true } },
      { via: 'send_task', task: 'tasks.nope.missing', args: [1] },
      { via: 'send_task', task: 'tasks.file.process_file', args: [fileId, 'extra'] },
      { via: 'send_task', task: 'tasks.credits.consume', kwargs: { account_id: accountId, amount: -5 } },
      { via: 'apply_async', task: 'tasks.system.sleep', args: [30_000], options: { time_limit: 1 } },
      { via: 'apply_async', task: 'tasks.system.noop', args: [1], link: 'tasks.system.noop' },
      { via: 'send_task', task: 'tasks.credits.consume', args: [accountId, 500_000] },
    ]);
    expect(outcomes.map((o) => o.state)).toEqual(outcomes.map(() => 'FAILURE'));
    expect(outcomes[0].exception).toEqual({ type: 'Exception', module: 'builtins', args: ['boom'] });
    expect(outcomes[1].exception).toMatchObject({ type: 'NotRegistered', module: 'celery.exceptions' });
    expect(outcomes[1].exception.args[0]).toContain('tasks.nope.missing');
    expect(outcomes[2].exception).toEqual({
      type: 'TypeError',
      module: 'builtins',
      args: ['process_file() takes 1 positional argument but 2 were given'],
    });
    expect(outcomes[3].exception).toMatchObject({ type: 'ValueError', module: 'builtins' });
    expect(outcomes[3].exception.args[0]).toContain('amount');
    expect(outcomes[4].exception).toMatchObject({ type: 'TimeoutError', module: 'builtins' });
    expect(outcomes[5].exception).toMatchObject({ type: 'NotImplementedError', module: 'builtins' });
    expect(outcomes[5].exception.args[0]).toContain('callbacks');
    // A domain error keeps its name; Celery makes up a class of that name for the caller.
    expect(outcomes[6].exception).toMatchObject({ type: 'InsufficientCredits' });
    expect(outcomes[6].exception.args[0]).toContain('Insufficient balance');
    // A refused call has no record; one that ran and failed has.
    expect((await svc.admin.get(`/tasks/${outcomes[1].id}`)).status).toBe(404);
    expect((await svc.admin.get(`/tasks/${outcomes[0].id}`)).body.state).toBe('FAILURE');
  });

  it('revokes a running task with terminate=True through the pidbox', async () => {
    const outcome = await client(broker.url, 'revoke');
    expect(outcome.state).toBe('REVOKED');
    expect(outcome.exception).toMatchObject({ type: 'TaskRevokedError', module: 'celery.exceptions' });
    expect((await svc.admin.get(`/tasks/${outcome.id}`)).body.state).toBe('REVOKED');
  });

  it('answers celery inspect active, registered and stats from the CLI with live data', async () => {
    const running = await svc.admin.submit('tasks.system.sleep', { ms: 60_000 });
    await svc.admin.waitForTask(running.id, [TaskState.STARTED]);
    const active = await celeryCli(broker.url, 'inspect', 'active');
    expect(active).toMatch(/->\s+task-service-\d+@\S+: OK/);
    expect(active).toContain(running.id);
    const registered = await celeryCli(broker.url, 'inspect', 'registered');
    expect(registered).toContain('tasks.file.process_file');
    expect(registered).toContain('tasks.credits.transfer');
    const stats = JSON.parse((await celeryCli(broker.url, 'inspect', 'stats', '--json')).trim().split('\n').at(-1)!);
    const [node] = Object.values(stats) as any[];
    expect(node).toMatchObject({ pid: process.pid, broker: { transport: 'redis', port: broker.port } });
    expect(node.total['tasks.system.noop']).toBeGreaterThanOrEqual(1);
    await svc.admin.post(`/tasks/${running.id}/cancel`);
  });

  it('lists a countdown call in inspect scheduled, and the old control revoke drops it', async () => {
    const [id] = await client<string[]>(
      broker.url,
      'send',
      JSON.stringify([{ via: 'apply_async', task: 'tasks.system.sleep', args: [10], options: { countdown: 60 } }]),
    );
    await svc.admin.waitForTask(id, [TaskState.PENDING]);
    expect(await celeryCli(broker.url, 'inspect', 'scheduled')).toContain(id);
    await celeryCli(broker.url, 'control', 'revoke', id);
    await waitUntil(async () => broker.cli('GET', `celery-task-meta-${id}`).includes('REVOKED'), 20_000);
    expect((await svc.admin.get(`/tasks/${id}`)).body.state).toBe('REVOKED');
  });

  it('writes the results missing from the backend: a worker that died before writing, a cancel over REST', async () => {
    const [done] = await plan([{ via: 'delay', task: 'tasks.system.noop', args: [5] }]);
    expect(done.state).toBe('SUCCESS');
    const key = `celery-task-meta-${done.id}`;
    const written = JSON.parse(broker.cli('GET', key));
    // What a SIGKILL between the record's commit and the mirror's write leaves behind.
    broker.cli('DEL', key);
    await waitUntil(async () => broker.cli('EXISTS', key).trim() === '1', 20_000);
    const repaired = JSON.parse(broker.cli('GET', key));
    expect(repaired).toMatchObject({ status: 'SUCCESS', result: written.result, task_id: done.id });

    // A REST cancel of a Celery call that waits is no worker's state change: the repair writes it.
    const [waiting] = await client<string[]>(
      broker.url,
      'send',
      JSON.stringify([{ via: 'apply_async', task: 'tasks.system.sleep', args: [10], options: { countdown: 60 } }]),
    );
    await svc.admin.waitForTask(waiting, [TaskState.PENDING]);
    expect((await svc.admin.post(`/tasks/${waiting}/cancel`)).status).toBeLessThan(300);
    await waitUntil(async () => broker.cli('GET', `celery-task-meta-${waiting}`).includes('REVOKED'), 20_000);
  });

  it('reads protocol 1 messages and keeps tasks submitted over REST out of the result backend', async () => {
    const id = '0b6f5a52-7f43-4c5d-9c1e-2f0c8a1d9e01';
    const body = Buffer.from(JSON.stringify({ task: 'tasks.system.noop', id, args: [7], kwargs: { k: 'v' } }));
    const message = {
      body: body.toString('base64'),
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      headers: {},
      properties: {
        body_encoding: 'base64',
        delivery_tag: 'tag-protocol-1',
        delivery_info: { exchange: 'celery', routing_key: 'celery' },
      },
    };
    broker.cli('LPUSH', 'celery', JSON.stringify(message));
    await waitUntil(async () => broker.cli('GET', `celery-task-meta-${id}`).includes('SUCCESS'), 20_000);
    expect(JSON.parse(broker.cli('GET', `celery-task-meta-${id}`))).toMatchObject({
      status: 'SUCCESS',
      result: { args: [7], k: 'v' },
      task_id: id,
    });

    const viaRest = await svc.admin.submit('tasks.system.noop', { x: 1 });
    await svc.admin.waitForTask(viaRest.id);
    expect(broker.cli('EXISTS', `celery-task-meta-${viaRest.id}`).trim()).toBe('0');
  });
});
