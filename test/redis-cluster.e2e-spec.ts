import { describeTransport } from '../src/tasks/queues/queue-transport';
import { redisCli, RedisTopologyUnderTest, startRedisCluster } from './support/redis-topology';
import { startTestService, TestService } from './support/test-service';

const QUEUES = ['file_tasks', 'email_tasks', 'api_calls', 'credits', 'export', 'default'];

/**
 * The service on a Redis Cluster (3 masters, 3 replicas, started by the test): each queue's keys
 * in one slot of its own, and what operators use (queue control, Bull Board, readiness,
 * metrics) working there. The failover under load is the fault suite's (test/faults).
 */
describe('Redis Cluster transport', () => {
  let cluster: RedisTopologyUnderTest;
  let svc: TestService;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    svc = await startTestService({ ...cluster.env, WORKER_HEARTBEAT_MS: '1000' });
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
    await cluster?.destroy();
  });

  const seedPort = () => Number(cluster.env.REDIS_CLUSTER_NODES!.split(',')[0].split(':')[1]);
  const prefix = () => svc.env.QUEUE_PREFIX!;

  it('names the cluster and its masters, and runs tasks on it', async () => {
    expect(describeTransport(svc.service.config)).toBe('Redis Cluster, 3 masters');
    const task = await svc.admin.submit('tasks.system.sleep', { ms: 10 });
    expect((await svc.admin.waitForTask(task.id)).state).toBe('SUCCESS');
  });

  it("keeps each queue's keys in a hash slot of its own", async () => {
    const slots = await Promise.all(
      QUEUES.map(async (q) => Number(await redisCli(seedPort(), 'cluster', 'keyslot', `{${prefix()}:${q}}`))),
    );
    expect(new Set(slots).size).toBe(QUEUES.length);
    // The task above left the default queue's keys (its meta, its id counter, the job) in its slot.
    const slot = slots[QUEUES.indexOf('default')];
    const counts = await Promise.all(
      cluster.env
        .REDIS_CLUSTER_NODES!.split(',')
        .map((node) => redisCli(Number(node.split(':')[1]), 'cluster', 'countkeysinslot', String(slot))),
    );
    expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('pauses, lists, purges and resumes a queue, and Bull Board shows every queue', async () => {
    const api = svc.admin;
    expect((await api.post('/queues/default/pause')).body).toMatchObject({ name: 'default', paused: true });
    const waiting = await api.submit('tasks.system.sleep', { ms: 10 });
    const paused = (await api.get('/queues/default')).body;
    expect(paused).toMatchObject({ paused: true, counts: { waiting: 1 } });
    expect((await api.post('/queues/default/purge')).body).toEqual({ queue: 'default', removed: 1, revoked: 1 });
    expect((await api.get(`/tasks/${waiting.id}`)).body.state).toBe('REVOKED');
    expect((await api.post('/queues/default/resume')).body).toMatchObject({ paused: false });
    const listed = (await api.get('/queues')).body.queues.map((q: { name: string }) => q.name);
    expect(listed.sort()).toEqual([...QUEUES].sort());
    const board = await api.get('/admin/queues/api/queues');
    expect(board.status).toBe(200);
    expect(board.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUES].sort());
  });

  it('answers readiness through the cluster and exports queue metrics', async () => {
    const ready = await svc.admin.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.queue_transport).toMatchObject({ status: 'up', backend: 'redis' });
    const metrics = await svc.admin.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toMatch(/queue="default"/);
  });
});
