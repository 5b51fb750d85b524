import { QueueEvents } from 'bullmq';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { redisOptionsFromUrl } from '../src/tasks/queues/queue-transport';
import { uploadFile } from './fixtures/file-api';
import { startTestService, TestService } from './support/test-service';

const SIZE_BYTES = 24 * 1024 * 1024;

/** Writes about `bytes` of mixed English and Chinese paragraphs, streamed to disk. */
async function writeLargeText(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const topics = ['rivers', 'mountains', 'libraries', 'engines', 'gardens', 'harbours', 'markets', 'bridges'];
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const topic = topics[i % topics.length];
    const paragraph =
      i % 5 === 4
        ? `第${i}段：城市的${['河流', '山脉', '图书馆', '花园'][i % 4]}在清晨显得格外安静，人们沿着小路散步，讨论天气和最近的新闻。\n\n`
        : `Paragraph ${i} describes ${topic} in some detail: how ${topic} change with the seasons, who looks after them, and why visitors remember them for years.\n\n`;
    written += Buffer.byteLength(paragraph);
    if (!out.write(paragraph)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('Files: a large file is processed off the main thread', () => {
  let svc: TestService;
  let events: QueueEvents;
  let dir: string;
  const stalled: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-large-'));
    // A short lock: if the main thread were blocked for ~2 s, BullMQ would declare the job stalled.
    svc = await startTestService({
      STORAGE_DIR: join(dir, 'storage'),
      MAX_UPLOAD_BYTES: String(64 * 1024 * 1024),
      JOB_LOCK_MS: '2000',
    });
    events = new QueueEvents('file_tasks', {
      connection: redisOptionsFromUrl(process.env.TEST_REDIS_URL!) as never,
      prefix: svc.env.QUEUE_PREFIX,
    });
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await svc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`indexes a ${SIZE_BYTES / 1024 / 1024} MB text file while GET /tasks/:id keeps answering, and runs it once`, async () => {
    const api = await svc.newClient();
    const path = join(dir, 'large.txt');
    await writeLargeText(path, SIZE_BYTES);
    const upload = await uploadFile(api, path);
    expect(upload.status).toBe(201);
    const taskId = upload.body.task.id;

    const latencies: number[] = [];
    let task: any;
    const deadline = Date.now() + 150_000;
    do {
      const started = Date.now();
      const response = await api.get(`/tasks/${taskId}`);
      expect(response.status).toBe(200);
      task = response.body;
      if (task.state === 'STARTED') latencies.push(Date.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    } while (!['SUCCESS', 'FAILURE'].includes(task.state) && Date.now() < deadline);

    expect(task).toMatchObject({ state: 'SUCCESS', attempts: 1 });
    expect(task.result.chunks).toBeGreaterThan(1000);
    // Behaviour, not a benchmark: the API answered throughout, never stuck behind the CPU work.
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    const file = (await api.get(`/files/${upload.body.file.id}`)).body;
    expect(file).toMatchObject({ status: 'INDEXED', chunkCount: task.result.chunks, size: upload.body.file.size });
    expect(stalled).toEqual([]);
    const hits = (await api.get(`/files/search?q=${encodeURIComponent('图书馆 清晨 散步')}&k=3`)).body.hits;
    expect(hits[0].snippet).toMatch(/图书馆|清晨/);
  });
});
