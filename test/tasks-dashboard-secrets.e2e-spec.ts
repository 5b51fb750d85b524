import { TaskQueues } from '../src/tasks/queues/task-queues.service';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

// A Standard Webhooks secret (whsec_ and base64), as the webhook task requires.
const HOOK_SECRET = `whsec_${Buffer.from('hook-secret-0123456789-abcd').toString('base64')}`;

/** Secrets declared in `sensitiveArgs` travel in the job to the worker but never show on Bull Board. */
describe('No secrets in the dashboard', () => {
  let svc: TestService;

  beforeAll(async () => {
    // No workers: the jobs wait (delayed) where the board shows them.
    svc = await startTestService({ ROLE: 'api' });
  });
  afterAll(() => svc?.stop());

  it("redacts a task's sensitive arguments in the board's job view, and keeps the rest", async () => {
    const call = await svc.admin.submit(
      'tasks.api.call',
      {
        method: 'GET',
        url: 'https://example.com/orders',
        headers: { Authorization: 'Bearer call-secret-0123456789', 'X-Trace': 'visible-trace' },
      },
      { delay: 60_000 },
    );
    const hook = await svc.admin.submit(
      'tasks.api.webhook',
      { url: 'https://example.com/hook', event: 'order.paid', payload: { n: 1 }, secret: HOOK_SECRET },
      { delay: 60_000 },
    );
    const board = new ApiClient(svc.baseUrl, svc.admin.apiKey);
    const page = await board.get('/admin/queues/api/queues?activeQueue=api_calls&status=delayed&page=1&jobsPerPage=50');
    expect(page.status).toBe(200);
    const queue = page.body.queues.find((q: { name: string }) => q.name === 'api_calls');
    const jobs = Object.fromEntries(queue.jobs.map((j: { id: string; data: unknown }) => [j.id, j.data]));
    expect(jobs[call.id].args).toMatchObject({
      url: 'https://example.com/orders',
      headers: { Authorization: '[redacted]', 'X-Trace': 'visible-trace' },
    });
    expect(jobs[hook.id].args).toMatchObject({ event: 'order.paid', secret: '[redacted]' });
    const text = JSON.stringify(page.body);
    expect(text).not.toContain('call-secret-0123456789');
    expect(text).not.toContain(HOOK_SECRET);

    // The job itself still carries the secret to the worker.
    const job = await svc.service.app.get(TaskQueues).get('api_calls').getJob(call.id);
    expect(job?.data.args.headers.Authorization).toBe('Bearer call-secret-0123456789');
  });
});
