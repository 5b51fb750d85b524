import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

describe('Task API: bad input gets a 4xx naming the problem, and clients are isolated', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService();
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  it('401 without a key or with an unknown key', async () => {
    expect((await api.as(undefined).get('/tasks')).status).toBe(401);
    const wrong = await api.as('not-a-real-key-0000000000').get('/tasks');
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toContain('unknown or revoked');
  });

  it('400 for a malformed task id, never a 500', async () => {
    for (const path of ['/tasks/123', '/tasks/not-a-uuid/cancel', '/tasks/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
      const response = path.endsWith('cancel') ? await api.post(path) : await api.get(path);
      expect(response.status).toBe(400);
    }
    expect((await api.get('/tasks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('404 for an unknown task name, naming the registered names that are close', async () => {
    const response = await api.post('/tasks', { name: 'tasks.system.nop' });
    expect(response.status).toBe(404);
    expect(response.body.message).toContain('tasks.system.noop');
    expect(response.body.suggestions).toContain('tasks.system.noop');
  });

  it.each([
    [{ name: 'tasks.system.sleep', args: { ms: -1 } }, 'args.ms', 'min'],
    [{ name: 'tasks.system.sleep', args: { ms: 'soon' } }, 'args.ms', 'isInt'],
    [{ name: 'tasks.system.sleep', args: {} }, 'args.ms', 'required'],
    [{ name: 'tasks.system.sleep', args: { ms: 1, extra: true } }, 'args.extra', 'whitelistValidation'],
    [{ name: 'tasks.system.noop', args: [1, 2] }, 'args', 'isObject'],
    [{ name: 'tasks.system.noop', options: { delay: -5 } }, 'options.delay', 'min'],
    [{ name: 'tasks.system.noop', options: { priority: 0 } }, 'options.priority', 'min'],
    [{ name: 'bad name!' }, 'name', 'matches'],
    [{ args: {} }, 'name', 'required'],
    [{ name: 'tasks.system.noop', surprise: 1 }, 'surprise', 'whitelistValidation'],
  ])('400 for %j naming %s (%s)', async (body, field, rule) => {
    const response = await api.post('/tasks', body);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, rule })]));
  });

  it('400 for a malformed JSON body', async () => {
    const response = await api.request('POST', '/tasks', '{"name":', { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
  });

  it('400 for bad list filters', async () => {
    for (const query of [
      'state=DONE',
      'from=yesterday',
      'limit=0',
      'limit=100000',
      'cursor=!!!',
      'cursor=bm90LWEtY3Vyc29y',
    ]) {
      const response = await api.get(`/tasks?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
  });

  it('a batch names the index of each bad task and queues nothing', async () => {
    const response = await api.post('/tasks/batch', {
      tasks: [
        { name: 'tasks.system.noop', args: { marker: 'batch-rejected' } },
        { name: 'tasks.system.sleep', args: { ms: -1 } },
        { name: 'tasks.nope' },
      ],
    });
    expect(response.status).toBe(400);
    const fields = response.body.errors.map((e: any) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['tasks.1.args.ms', 'tasks.2.name']));
    const listed = await api.get('/tasks?name=tasks.system.noop&limit=500');
    expect(listed.body.items.filter((t: any) => t.args.marker === 'batch-rejected')).toEqual([]);
    expect(
      (await api.post('/tasks/batch', { tasks: Array.from({ length: 1001 }, () => ({ name: 'tasks.system.noop' })) }))
        .status,
    ).toBe(400);
  });

  it('one client never sees or touches another client’s tasks', async () => {
    const alice = await svc.newClient('alice');
    const bob = await svc.newClient('bob');
    const task = await alice.submit('tasks.system.noop', { secret: 'alice' }, { delay: 60_000 });
    expect((await alice.get(`/tasks/${task.id}`)).status).toBe(200);
    expect((await bob.get(`/tasks/${task.id}`)).status).toBe(404);
    expect((await bob.post(`/tasks/${task.id}/cancel`)).status).toBe(404);
    expect((await bob.post(`/tasks/${task.id}/retry`)).status).toBe(404);
    expect((await bob.get(`/tasks/${task.id}/events`)).status).toBe(404);
    expect((await bob.get('/tasks')).body.items).toEqual([]);
    expect((await alice.get('/tasks')).body.items.map((t: any) => t.id)).toEqual([task.id]);
    expect((await api.get(`/tasks/${task.id}`)).status).toBe(200);
    // The same idempotency key from two clients makes two tasks.
    const a = await alice.post('/tasks', { name: 'tasks.system.noop' }, { 'Idempotency-Key': 'shared' });
    const b = await bob.post('/tasks', { name: 'tasks.system.noop' }, { 'Idempotency-Key': 'shared' });
    expect(a.body.id).not.toBe(b.body.id);
  });
});
