import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyService } from '../src/auth/api-key.service';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';

const TEXTS: Record<string, string> = {
  'incoming/lighthouse.txt': 'The lighthouse keeper counted every ship that passed the rocky northern cape.',
  'incoming/sub/baking.md': '# Sourdough\n\nFeed the starter with rye flour and water every morning.',
  'incoming/sub/deeper/volcano.txt': 'Basalt columns form when thick lava cools slowly and contracts.',
  'shared/linked.txt': 'A file reached through a symlink that stays inside the import root.',
};

describe('Files: bulk_upload from IMPORT_ROOT (PostgreSQL, Redis, a real directory tree)', () => {
  let svc: TestService;
  let admin: ApiClient;
  let owner: ApiClient;
  let ownerKeyId: string;
  let root: string;
  let first: any;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'import-root-'));
    const outside = await mkdtemp(join(tmpdir(), 'import-outside-'));
    for (const [path, text] of Object.entries(TEXTS)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await writeFile(join(outside, 'secret.txt'), 'must never be read');
    await symlink(join(outside, 'secret.txt'), join(root, 'incoming/escape.txt'));
    await symlink(join(root, 'shared/linked.txt'), join(root, 'incoming/sub/linked.txt'));
    await symlink(outside, join(root, 'incoming/outside-dir'));
    expect(spawnSync('mkfifo', [join(root, 'incoming/pipe')]).status).toBe(0);

    svc = await startTestService({ IMPORT_ROOT: root, STORAGE_DIR: await mkdtemp(join(tmpdir(), 'import-storage-')) });
    admin = svc.admin;
    const created = await svc.service.app.get(ApiKeyService).create('import-owner', 'client');
    ownerKeyId = created.key.id;
    owner = new ApiClient(svc.baseUrl, created.secret);
  });
  afterAll(() => svc?.stop());

  it('is admin-only, also through POST /tasks', async () => {
    const route = await owner.post('/files/import', { directory: 'incoming' });
    expect(route.status).toBe(403);
    const viaTasks = await owner.submit('tasks.file.bulk_upload', { directory: 'incoming' });
    const task = await owner.waitForTask(viaTasks.id);
    expect([task.state, task.error.message]).toEqual(['FAILURE', 'Importing server files needs an admin API key']);
  });

  it.each([
    ['../etc', 'must not contain ".." segments'],
    ['incoming/../../etc', 'must not contain ".." segments'],
    ['/etc', 'must be relative to IMPORT_ROOT, not an absolute path'],
    ['missing', 'is not a directory below IMPORT_ROOT'],
    ['incoming/outside-dir', 'is not a directory below IMPORT_ROOT'],
  ])('refuses directory %j with 400 naming the field', async (directory, message) => {
    const response = await admin.post('/files/import', { directory });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'directory' })]);
    expect(response.body.errors[0].message).toContain(message);
  });

  it('imports the nested tree, skips the outside symlink, the symlinked directory and the FIFO with reasons', async () => {
    const submitted = await admin.post('/files/import', { directory: 'incoming', recursive: true, ownerKeyId });
    expect(submitted.status).toBe(202);
    first = await admin.waitForTask(submitted.body.id);
    expect(first.state).toBe('SUCCESS');
    expect(first.queue).toBe('file_tasks');
    expect(first.result).toMatchObject({ imported: 4, failed: [], failedTotal: 0, skippedTotal: 3 });
    expect(first.result.skipped).toEqual(
      expect.arrayContaining([
        { path: 'incoming/escape.txt', reason: 'symlink pointing outside IMPORT_ROOT' },
        { path: 'incoming/outside-dir', reason: 'symlink pointing outside IMPORT_ROOT' },
        { path: 'incoming/pipe', reason: 'FIFO: only regular files are imported' },
      ]),
    );
    const files = await Promise.all(first.result.fileIds.map((id: string) => owner.get(`/files/${id}`)));
    expect(files.map((f) => f.status)).toEqual([200, 200, 200, 200]);
    expect(files.map((f) => f.body.name).sort()).toEqual(['baking.md', 'lighthouse.txt', 'linked.txt', 'volcano.txt']);
    expect(files.every((f) => f.body.name !== 'secret.txt')).toBe(true);
  });

  it('submits one process_file child per file (parentId = the import) and search finds their content', async () => {
    const children = (await admin.get(`/tasks?parentId=${first.id}&limit=100`)).body.items;
    expect(children).toHaveLength(4);
    expect(new Set(children.map((c: { name: string }) => c.name))).toEqual(new Set(['tasks.file.process_file']));
    await Promise.all(children.map((c: { id: string }) => owner.waitForTask(c.id)));
    const states = await Promise.all(
      children.map(async (c: { id: string }) => (await owner.get(`/tasks/${c.id}`)).body.state),
    );
    expect(states).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const search = await owner.get(`/files/search?q=${encodeURIComponent('lighthouse keeper ships')}&k=1`);
    expect(search.status).toBe(200);
    const lighthouse = (await owner.get('/files?limit=100')).body.items.find(
      (f: { name: string }) => f.name === 'lighthouse.txt',
    );
    expect(search.body.hits[0]).toMatchObject({ fileId: lighthouse.id, fileName: 'lighthouse.txt' });
    expect(search.body.hits[0].snippet).toContain('lighthouse keeper');
  });

  it('a rerun imports nothing twice', async () => {
    const again = await admin.waitForTask(
      (await admin.post('/files/import', { directory: 'incoming', recursive: true, ownerKeyId })).body.id,
    );
    expect(again.result).toMatchObject({ imported: 0, fileIds: [], skippedTotal: 7 });
    expect(again.result.skipped.filter((s: { reason: string }) => s.reason === 'already imported')).toHaveLength(4);
    expect((await owner.get('/files?limit=100')).body.items).toHaveLength(4);
  });

  it('filters by pattern and stays in the top directory unless recursive', async () => {
    const md = await admin.waitForTask(
      (await admin.post('/files/import', { directory: 'incoming', recursive: true, pattern: '*.md', process: false }))
        .body.id,
    );
    expect(md.result).toMatchObject({ imported: 1, skippedTotal: 0 });
    const top = await admin.waitForTask(
      (await admin.post('/files/import', { directory: 'incoming', process: false })).body.id,
    );
    // Only lighthouse.txt is a regular file at the top (escape.txt, outside-dir and pipe are skipped).
    expect(top.result).toMatchObject({ imported: 1, skippedTotal: 3 });
    expect((await admin.get(`/tasks?parentId=${top.id}`)).body.items).toEqual([]);
  });
});
