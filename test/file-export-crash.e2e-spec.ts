import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download, readZip, unzipTest, uploadBytes } from './file-export-helpers';
import { waitUntil } from './support/processes';
import { ApiWithWorkerProcesses } from './support/worker-processes';

jest.setTimeout(120_000);

/** The api runs in this process; the export worker is a child process that the test SIGKILLs mid-archive. */
describe('Files: an export whose worker is SIGKILLed mid-archive', () => {
  let deployment: ApiWithWorkerProcesses;
  const startWorker = () => deployment.startWorker({ WORKER_QUEUES: 'export' });

  beforeAll(async () => {
    const storageDir = await mkdtemp(join(tmpdir(), 'file-export-crash-'));
    // 3 × 2 MB at 3 MB/s: the kill lands inside the archive.
    deployment = await ApiWithWorkerProcesses.start({
      STORAGE_DIR: storageDir,
      EXPORT_READ_BYTES_PER_SECOND: String(3 * 1024 * 1024),
    });
  });
  afterAll(() => deployment?.stop());

  it('is retried from a clean start and ends SUCCESS with a complete archive; no partial is left', async () => {
    const client = await deployment.api.newClient('export-crash');
    const sources = await Promise.all([0, 1, 2].map(() => randomBytes(2 * 1024 * 1024)));
    const ids: string[] = [];
    for (const [i, bytes] of sources.entries()) ids.push((await uploadBytes(client, `part-${i}.bin`, bytes)).id);
    const first = await startWorker();
    const { body: task } = await client.post('/files/export', { fileIds: ids });
    const exportsDir = join(deployment.env.STORAGE_DIR!, 'exports');
    const filesIn = () =>
      existsSync(exportsDir)
        ? readdirSync(exportsDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        : [];
    await waitUntil(
      async () => ((await client.get(`/tasks/${task.id}`)).body.progress?.filesDone ?? 0) >= 1,
      20_000,
      20,
    );
    await deployment.kill(first);
    // What the killed attempt left: a partial archive, never a published one.
    expect(filesIn().map((e) => e.name)).toEqual([expect.stringMatching(new RegExp(`^${task.id}\\.zip\\.partial-`))]);
    expect((await client.get(`/exports/${task.id}`)).status).toBe(404);

    await startWorker();
    const done = await client.waitForTask(task.id, undefined, 90_000);
    expect(done.state).toBe('SUCCESS');
    expect(filesIn().map((e) => e.name)).toEqual([`${task.id}.zip`]);
    const zip = await download(client, `/exports/${task.id}/content`);
    expect((await unzipTest(zip.body)).status).toBe(0);
    const entries = await readZip(zip.body);
    expect(entries.map((e) => e.name)).toEqual(['part-0.bin', 'part-1.bin', 'part-2.bin', 'manifest.json']);
    sources.forEach((bytes, i) => expect(entries[i].data.equals(bytes)).toBe(true));
  });
});
