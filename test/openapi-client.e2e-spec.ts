import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestService, TestService } from './support/test-service';

const ROOT = resolve(__dirname, '..');
// redocly's ignore file (.redocly.lint-ignore.yaml) names the document by this path.
const DOCUMENT = join(ROOT, '.test-build', 'openapi.json');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/**
 * The document the service serves is one a client generator can use: Redocly's recommended rules
 * pass, and a TypeScript client generated from it by @hey-api/openapi-ts type-checks (strict) a
 * program that submits, polls, uploads and searches without a cast, and runs it against the service.
 */
describe('OpenAPI: /docs-json lints clean and generates a working TypeScript client', () => {
  let svc: TestService;
  const out = join(ROOT, '.test-build', `openapi-client-${process.env.TEST_RUN_ID}`);

  beforeAll(async () => {
    svc = await startTestService({ STORAGE_DIR: mkdtempSync(join(tmpdir(), 'openapi-e2e-storage-')) });
    const response = await fetch(`${svc.baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    mkdirSync(out, { recursive: true });
    writeFileSync(DOCUMENT, await response.text());
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('passes redocly lint with no error or warning', () => {
    // Redocly reports on stderr; the exit status is 1 on any error.
    const lint = spawnSync(bin('redocly'), ['lint', DOCUMENT, '--format=summary'], { cwd: ROOT, encoding: 'utf8' });
    const report = `${lint.stdout}${lint.stderr}`;
    expect({ status: lint.status, report }).toMatchObject({ status: 0 });
    expect(report).toContain('Your API description is valid');
    expect(report).not.toMatch(/warning/i);
  });

  it('generates a client that submits, polls, uploads and searches, type-checked without a cast', async () => {
    execFileSync(bin('openapi-ts'), ['-i', DOCUMENT, '-o', join(out, 'client')], { cwd: ROOT, stdio: 'pipe' });
    writeFileSync(join(out, 'use-client.ts'), USE_CLIENT);
    // Strict type-check of the program against the generated types: a missing schema is an error here.
    execFileSync(
      bin('tsc'),
      [
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node',
        '--lib',
        'ES2023,DOM',
        '--types',
        'node',
        '--skipLibCheck',
        join(out, 'use-client.ts'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const { useClient } = (await import(join(out, 'use-client.ts'))) as {
      useClient(baseUrl: string, apiKey: string): Promise<{ task: unknown; file: unknown; hits: unknown[] }>;
    };
    const result = await useClient(svc.baseUrl, svc.admin.apiKey!);
    expect(result.task).toMatchObject({ state: 'SUCCESS', name: 'tasks.system.noop' });
    expect(result.file).toMatchObject({ name: 'tea.txt', status: 'INDEXED' });
    expect(result.hits[0]).toMatchObject({ fileName: 'tea.txt' });
  });
});

// The program a client author writes: no `as`, no `any`; `data` is narrowed by checking it.
const USE_CLIENT = `
import { createClient } from './client/client';
import { filesFind, filesGet, filesUpload, tasksGet, tasksSubmit } from './client/sdk.gen';
import type { FileViewDto, SearchHitDto, TaskViewDto } from './client/types.gen';

const FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];

export async function useClient(baseUrl: string, apiKey: string) {
  const client = createClient({ baseUrl, auth: apiKey });
  const submitted = await tasksSubmit({ client, body: { name: 'tasks.system.noop', args: { n: 1 } } });
  if (!submitted.data) throw new Error('submit failed: ' + JSON.stringify(submitted.error));
  const task: TaskViewDto = await poll(async () => (await tasksGet({ client, path: { id: submitted.data.id } })).data);

  const uploaded = await filesUpload({
    client,
    body: { file: new File(['Green tea is steeped at 80 degrees for two minutes.'], 'tea.txt', { type: 'text/plain' }) },
  });
  if (!uploaded.data) throw new Error('upload failed: ' + JSON.stringify(uploaded.error));
  const processing = uploaded.data.task;
  if (!processing) throw new Error('the upload started no processing task');
  await poll(async () => (await tasksGet({ client, path: { id: processing.id } })).data);
  const file: FileViewDto | undefined = (await filesGet({ client, path: { id: uploaded.data.file.id } })).data;
  if (!file) throw new Error('the file is gone');

  const found = await filesFind({ client, query: { q: 'how hot for green tea', k: 3 } });
  if (!found.data) throw new Error('search failed: ' + JSON.stringify(found.error));
  const hits: SearchHitDto[] = found.data.hits;
  return { task, file, hits };
}

async function poll(read: () => Promise<TaskViewDto | undefined>): Promise<TaskViewDto> {
  for (let i = 0; i < 600; i++) {
    const task = await read();
    if (task && FINAL.includes(task.state)) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the task did not finish');
}
`;
