import { TaskState } from '../src/tasks/task-state';
import { ApiClient } from './support/api-client';
import { freePort, ServiceProcess, spawnService } from './support/processes';
import { ADMIN_KEY, testEnvironment } from './support/test-service';

const READINESS_DELAY_MS = 1_500;

/** Reads an event stream until it ends; resolves with everything it received. */
async function readStream(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value);
  }
}

/**
 * A rolling restart of the api role: on SIGTERM readiness turns 503 while the process still
 * serves, then long-polls answer with the current state, event streams end with a `shutdown`
 * event, and the process exits 0.
 */
describe('The api role drains on SIGTERM', () => {
  let api: ServiceProcess;
  let client: ApiClient;

  beforeAll(async () => {
    const port = await freePort();
    api = spawnService(
      testEnvironment({
        ROLE: 'api',
        PORT: String(port),
        LOG_LEVEL: 'info',
        SHUTDOWN_READINESS_DELAY_MS: String(READINESS_DELAY_MS),
      }),
    );
    await api.waitFor('listening on');
    client = new ApiClient(`http://127.0.0.1:${port}`, ADMIN_KEY);
  });
  afterAll(() => api?.child.kill('SIGKILL'));

  it('turns unready first, answers long-polls and ends event streams, then exits 0', async () => {
    // No worker runs here: the task stays PENDING, so both the long-poll and the stream stay open.
    const task = await client.submit('tasks.system.noop', { n: 1 });
    const stream = await fetch(`${client.baseUrl}/tasks/${task.id}/events`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const streamed = readStream(stream);
    const polled = client.get(`/tasks/${task.id}?wait=30000`);
    await new Promise((r) => setTimeout(r, 300));

    const signalled = Date.now();
    api.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const ready = await client.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.shutdown).toMatchObject({ status: 'down' });
    // Still serving while the load balancer takes the pod out.
    expect((await client.get(`/tasks/${task.id}`)).status).toBe(200);

    const poll = await polled;
    expect(poll.status).toBe(200);
    expect(poll.body).toMatchObject({ id: task.id, state: TaskState.PENDING });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const events = await streamed;
    expect(events).toContain('"state":"PENDING"');
    expect(events).toContain('event: shutdown');

    expect(await api.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(READINESS_DELAY_MS);
    expect(api.output()).toContain('HTTP server drained');
  });
});
