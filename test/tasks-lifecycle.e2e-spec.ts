import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

describe('Task lifecycle over HTTP (Redis + PostgreSQL)', () => {
  let svc: TestService;
  let api: ApiClient;

  beforeAll(async () => {
    svc = await startTestService();
    api = svc.admin;
  });
  afterAll(() => svc?.stop());

  it('submits a task, runs it and returns its result', async () => {
    const submitted = await api.submit('tasks.system.noop', { hello: 'world', n: 1 });
    expect(submitted.state).toBe('PENDING');
    expect(submitted.links.self).toBe(`/tasks/${submitted.id}`);
    const done = await api.waitForTask(submitted.id);
    expect(done).toMatchObject({ state: 'SUCCESS', result: { hello: 'world', n: 1 }, attempts: 1, queue: 'default' });
    expect(new Date(done.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt).getTime());
  });
});
