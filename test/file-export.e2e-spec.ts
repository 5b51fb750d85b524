import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageGarbageSweeper } from '../src/file/export/storage-garbage.sweeper';
import { AppConfig } from '../src/config/app-config';
import { TaskRetention } from '../src/tasks/records/task-retention.service';
import { download, readZip, unzipTest, uploadBytes } from './file-export-helpers';
import { ApiClient } from './support/api-client';
import { waitUntil } from './support/processes';
import { startTestService, TestService } from './support/test-service';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const RATE = 4 * 1024 * 1024;

describe('Files: export_file (ZIP) over HTTP, PostgreSQL, Redis and disk', () => {
  let svc: TestService;
  let api: ApiClient;
  let other: ApiClient;
  let storageDir: string;
  const sources = new Map<string, Buffer>();
  const ids: string[] = [];

  const exportsLeft = () => {
    const dir = join(storageDir, 'exports');
    return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
  };

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'file-export-e2e-'));
    // The read rate makes a few megabytes take long enough to cancel or delete mid-export.
    svc = await startTestService({ STORAGE_DIR: storageDir, EXPORT_READ_BYTES_PER_SECOND: String(RATE) });
    api = await svc.newClient('export-owner');
    other = await svc.newClient('export-other');
    const files: [string, Buffer][] = [
      ['report.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(3000)])],
      ['report.pdf', Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000)])],
      ['季度报告.txt', Buffer.from('第四季度的销售额增长了百分之十二。\n'.repeat(50))],
      ['../../evil', Buffer.from('should land inside the extraction directory\n')],
      ['notes.txt', Buffer.from('plain text compresses well. '.repeat(400))],
    ];
    for (const [name, bytes] of files) {
      const file = await uploadBytes(api, name, bytes);
      ids.push(file.id);
      sources.set(file.id, bytes);
    }
  });
  afterAll(() => svc?.stop());

  it('writes a valid ZIP with unique, safe UTF-8 names, matching bytes and a manifest; downloads it whole and by Range', async () => {
    const submitted = await api.post('/files/export', { fileIds: ids, name: '导出' });
    expect(submitted.status).toBe(202);
    const task = await api.waitForTask(submitted.body.id);
    expect(task).toMatchObject({ state: 'SUCCESS', name: 'tasks.file.export_file', queue: 'export' });
    const { exportId, entries, size, sha256: digest, expiresAt } = task.result;
    expect([exportId, entries]).toEqual([task.id, 5]);
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now());

    const whole = await download(api, `/exports/${exportId}/content`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(size));
    // A client that reads only filename= (curl -OJ) gets a readable name, not `__.zip` (#16).
    expect(whole.headers.get('content-disposition')).toBe(
      `attachment; filename=export-${exportId}.zip; filename*=UTF-8''${encodeURIComponent('导出.zip')}`,
    );
    expect(sha256(whole.body)).toBe(digest);

    const zip = await readZip(whole.body);
    expect(zip.map((e) => e.name)).toEqual([
      'report.pdf',
      'report (2).pdf',
      '季度报告.txt',
      'evil',
      'notes.txt',
      'manifest.json',
    ]);
    expect(zip.find((e) => e.name === '季度报告.txt')!.flags & 0x800).toBe(0x800);
    // PDFs are stored (0), text deflated (8).
    expect(zip.slice(0, 5).map((e) => e.method)).toEqual([0, 0, 8, 8, 8]);
    const manifest = JSON.parse(zip[5].data.toString());
    expect(manifest.entries).toEqual(
      ids.map((id, i) => ({
        name: zip[i].name,
        fileId: id,
        size: sources.get(id)!.length,
        sha256: sha256(sources.get(id)!),
      })),
    );
    ids.forEach((id, i) => expect(zip[i].data.equals(sources.get(id)!)).toBe(true));
    const tested = await unzipTest(whole.body);
    expect(tested.output).toContain('No errors detected');
    expect(tested.status).toBe(0);

    const record = await api.get(`/exports/${exportId}`);
    expect(record.body).toMatchObject({ id: exportId, entries: 5, size, sha256: digest, name: '导出.zip' });
    expect((await other.get(`/exports/${exportId}`)).status).toBe(404);
    expect((await download(other, `/exports/${exportId}/content`)).status).toBe(404);

    const part = await download(api, `/exports/${exportId}/content`, { range: 'bytes=100-1099' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${size}`);
    expect(part.headers.get('content-length')).toBe('1000');
    expect(part.body.equals(whole.body.subarray(100, 1100))).toBe(true);
    const tail = await download(api, `/exports/${exportId}/content`, { range: `bytes=${size - 10}-` });
    expect([tail.status, tail.body.equals(whole.body.subarray(size - 10))]).toEqual([206, true]);
    const outside = await download(api, `/exports/${exportId}/content`, { range: `bytes=${size + 5}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${size}`);
  });

  it("fails naming the id, without saying whose, for another owner's file or a missing one", async () => {
    const foreign = await uploadBytes(other, 'theirs.txt', Buffer.from('not yours'));
    const missing = '00000000-0000-4000-8000-000000000001';
    for (const id of [foreign.id, missing]) {
      const task = await api.waitForTask((await api.post('/files/export', { fileIds: [ids[0], id] })).body.id);
      expect(task.state).toBe('FAILURE');
      expect(task.error.message).toBe(`File not found: ${id}`);
    }
    // Also through the generic route.
    const viaTasks = await api.submit('tasks.file.export_file', { fileIds: [foreign.id] });
    expect((await api.waitForTask(viaTasks.id)).error.message).toBe(`File not found: ${foreign.id}`);
  });

  it('expires with its task record: the record and the archive bytes are removed', async () => {
    const task = await api.waitForTask((await api.post('/files/export', { fileIds: [ids[4]] })).body.id);
    const archives = () => exportsLeft().filter((e) => e.name === `${task.id}.zip`).length;
    expect([task.state, archives()]).toEqual(['SUCCESS', 1]);
    // Retention as it runs once the export's day is wholly past RESULT_EXPIRES_SECONDS.
    const expiresMs = svc.service.app.get(AppConfig).env.RESULT_EXPIRES_SECONDS * 1000;
    await svc.service.app.get(TaskRetention).expire(Date.now() + expiresMs + 2 * 86_400_000);
    expect((await api.get(`/exports/${task.id}`)).status).toBe(404);
    await svc.service.app.get(StorageGarbageSweeper).sweep();
    expect(archives()).toBe(0);
  });

  it('refuses a bad request with 400 naming the field', async () => {
    const bad = await api.post('/files/export', { fileIds: [ids[0], ids[0]] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain('fileIds');
    expect((await api.post('/files/export', { fileIds: [] })).status).toBe(400);
    expect((await api.post('/files/export', { fileIds: ['nope'] })).status).toBe(400);
    // This service has no IMPORT_ROOT: imports are disabled, and the route says so.
    const importing = await svc.admin.post('/files/import', { directory: 'x' });
    expect(importing.status).toBe(409);
    expect(importing.body.message).toContain('set IMPORT_ROOT');
  });

  describe('with a few megabytes (about 1.5 s at the test read rate)', () => {
    const big: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) big.push((await uploadBytes(api, `big-${i}.bin`, randomBytes(2 * 1024 * 1024))).id);
    });

    const startedExport = async (fileIds: string[]) => {
      const { body } = await api.post('/files/export', { fileIds });
      let progress: any;
      await waitUntil(
        async () => ((progress = (await api.get(`/tasks/${body.id}`)).body.progress)?.bytesDone ?? 0) > 0,
        10_000,
        20,
      );
      expect(progress).toMatchObject({ filesTotal: fileIds.length, bytesTotal: fileIds.length * 2 * 1024 * 1024 });
      expect(progress.filesDone).toBeLessThan(fileIds.length);
      return body.id as string;
    };

    it('cancel mid-export revokes the task and removes the partial archive', async () => {
      const before = exportsLeft().length;
      const id = await startedExport(big);
      expect(exportsLeft().length).toBe(before + 1);
      expect((await api.post(`/tasks/${id}/cancel`)).status).toBeLessThan(300);
      expect((await api.waitForTask(id)).state).toBe('REVOKED');
      await waitUntil(async () => exportsLeft().length === before, 5_000);
      expect((await api.get(`/exports/${id}`)).status).toBe(404);
    });

    it('a file deleted during the export fails it, naming the file', async () => {
      const before = exportsLeft().length;
      const id = await startedExport(big);
      expect((await api.delete(`/files/${big[2]}`)).status).toBe(204);
      const task = await api.waitForTask(id);
      expect(task.state).toBe('FAILURE');
      expect(task.error.message).toBe(`File ${big[2]} (big-2.bin) was deleted during the export`);
      await waitUntil(async () => exportsLeft().length === before, 5_000);
    });
  });
});
