import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './support/api-client';
import { startTestService, TestService } from './support/test-service';
import { docxBomb, docxOf, endlessPdf } from './fuzz/hostile-files';

/** A raw multipart body, so a file name can hold bytes FormData would rewrite (NUL, `..`, `/`). */
async function uploadRaw(api: ApiClient, filenameParam: string, content: Buffer, query = '?process=false') {
  const boundary = `----security${Date.now()}`;
  const body = Buffer.concat([
    // A form field named like a prototype property comes first: it must stay just a field.
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\npolluted\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; ${filenameParam}\r\n`),
    Buffer.from('Content-Type: application/octet-stream\r\n\r\n'),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const response = await fetch(`${api.baseUrl}/files${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath}/${e.name}`);
}

describe('Security: hostile uploads (names, ZIP bombs, endless PDFs) fail cleanly and the worker survives', () => {
  let svc: TestService;
  let api: ApiClient;
  let storageDir: string;

  beforeAll(async () => {
    storageDir = await mkdtemp(join(tmpdir(), 'security-files-'));
    svc = await startTestService({ STORAGE_DIR: storageDir });
    api = await svc.newClient();
  });
  afterAll(() => svc?.stop());

  async function process(name: string, content: Buffer, timeout?: number) {
    const upload = await uploadRaw(api, `filename="${name}"`, content);
    expect(upload.status).toBe(201);
    const task = await api.submit(
      'tasks.file.process_file',
      { fileId: upload.body.file.id },
      timeout ? { timeout } : undefined,
    );
    return api.waitForTask(task.id, undefined, 60_000);
  }

  it.each([
    ['..', 'filename=".."'],
    ['../../etc/passwd', 'filename="../../etc/passwd"'],
    ['an absolute path', 'filename="/etc/shadow"'],
    ['a Windows path', 'filename="C:\\Windows\\System32\\config\\SAM"'],
    ['a percent-encoded NUL byte', "filename*=UTF-8''report%00.txt.exe"],
    ['10,000 characters', `filename="${'n'.repeat(10_000)}.txt"`],
    ['a UTF-8 extended parameter', "filename*=UTF-8''..%2F..%2F%00evil.txt"],
  ])('stores an upload named with %s under a safe name only', async (_case, param) => {
    const before = filesUnder(storageDir);
    const response = await uploadRaw(api, param, Buffer.from('hello'));
    expect(response.status).toBe(201);
    const name: string = response.body.file.name;
    expect(name).not.toMatch(/[/\\\u0000-\u001f]/);
    expect(name).not.toMatch(/^\.\.?$/);
    expect([...name].length).toBeLessThanOrEqual(255);
    // The name is metadata only: the one new file on disk is inside the storage directory.
    const added = filesUnder(storageDir).filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
    expect(added[0].startsWith(`${storageDir}/`)).toBe(true);
    expect(added[0]).not.toContain(name.slice(0, 50) || '\u0000');
    const download = await fetch(`${api.baseUrl}/files/${response.body.file.id}/content`, {
      headers: { authorization: `Bearer ${api.apiKey}` },
    });
    expect(download.status).toBe(200);
    // filename= is a token or a quoted string without path characters; filename* follows when it differs.
    expect(download.headers.get('content-disposition')).toMatch(
      /^attachment; filename=("[^"/\\]*"|[^\s";/\\]+)(; filename\*=UTF-8''[A-Za-z0-9!#$&+\-.^_`|~%]+)?$/,
    );
    expect(await download.text()).toBe('hello');
  });

  it('refuses a raw NUL byte in the part header as a 400 naming the file field', async () => {
    const response = await uploadRaw(api, 'filename="report\u0000.txt"', Buffer.from('hello'));
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ field: 'file', rule: 'multipart' })]);
  });

  it('fails a DOCX that is a ZIP bomb at once, as a permanent extraction error', async () => {
    const done = await process('bomb.docx', await docxBomb(100 * 1024 * 1024));
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(done.error.message).toMatch(/DOCX\) is refused: word\/document\.xml expands \d+:1/);
  });

  it('fails a DOCX whose headers understate what it inflates to', async () => {
    const done = await process('liar.docx', await docxBomb(100 * 1024 * 1024, true));
    expect(done).toMatchObject({ state: 'FAILURE', attempts: 1 });
    expect(done.error.message).toMatch(/inflates past the 1024 bytes it declares/);
  });

  it('stops a PDF that would parse for minutes at the task timeout', async () => {
    const done = await process('endless.pdf', endlessPdf(120 * 1024 * 1024), 2000);
    expect(done.state).toBe('FAILURE');
    expect(done.error).toMatchObject({ type: 'TaskTimeoutError' });
  });

  it('still processes a normal document afterwards (the worker and its threads survived)', async () => {
    const done = await process('fine.docx', docxOf('The worker is still here.'));
    expect(done.state).toBe('SUCCESS');
    expect((await api.get(`/tasks/registered`)).status).toBe(200);
  });
});
