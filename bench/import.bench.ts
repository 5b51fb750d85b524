/**
 * `tasks.file.bulk_upload` of N small text files (1–10 KB, 100 per directory) against uploading
 * the same files one by one over `POST /files`, end to end: every file imported (or uploaded)
 * AND indexed by its process_file task. One service (all roles, default concurrency), local
 * hashing embedder, the same machine for both.
 * Target (issue #9): the import is faster than the uploads.
 *
 * Usage: npm run bench:import   (BENCH_IMPORT_FILES default 10000)
 */
import 'reflect-metadata';
import { openAsBlob, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ApiKeyService } from '../src/auth/api-key.service';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { createBenchDatabase, fmt, REDIS_URL, sleep, uniquePrefix } from './support';

const FILES = Number(process.env.BENCH_IMPORT_FILES ?? 10_000);
const WORDS =
  'river mountain library engine garden harbour market bridge season visitor record summer winter forest valley station museum theatre'.split(
    ' ',
  );

async function makeTree(root: string): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'tree', `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) await mkdir(dir, { recursive: true });
    const size = 1024 + Math.floor(Math.random() * 9 * 1024);
    let text = `Document ${i}.\n`;
    while (text.length < size) text += `${WORDS[Math.floor(Math.random() * WORDS.length)]} `;
    const path = join(dir, `note-${i}.txt`);
    await writeFile(path, text.slice(0, size));
    paths.push(path);
  }
  return paths;
}

async function main() {
  const database = await createBenchDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'import-bench-'));
  const service = await startService(
    AppConfig.fromEnv({
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: uniquePrefix('import'),
      PORT: '0',
      LOG_LEVEL: 'error',
      STORAGE_DIR: join(dir, 'storage'),
      IMPORT_ROOT: dir,
      PATH: process.env.PATH,
    }),
  );
  try {
    const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`${fmt(FILES)} files of 1–10 KB, ${cpus().length} cores, loadavg ${loadavg}`);
    const paths = await makeTree(dir);
    const baseUrl = `http://127.0.0.1:${(service.app.getHttpServer().address() as { port: number }).port}`;
    const keys = service.app.get(ApiKeyService);
    const db = service.app.get(DataSource);
    const admin = await keys.create('bench-import-admin', 'admin');
    const importer = await keys.create('bench-import-owner', 'client');
    const uploader = await keys.create('bench-upload-owner', 'client');
    const indexed = async (owner: string) =>
      (await db.query(`SELECT count(*)::int AS n FROM files WHERE owner = $1 AND status = 'INDEXED'`, [owner]))[0].n;
    const untilIndexed = async (owner: string) => {
      while ((await indexed(owner)) < FILES) await sleep(100);
    };

    let start = performance.now();
    const submitted = await fetch(`${baseUrl}/files/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ directory: 'tree', recursive: true, ownerKeyId: importer.key.id }),
    });
    if (submitted.status !== 202) throw new Error(`Import gave ${submitted.status}: ${await submitted.text()}`);
    await untilIndexed(importer.key.id);
    const importSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    for (const path of paths) {
      const form = new FormData();
      form.append('file', await openAsBlob(path), path.split('/').pop());
      const response = await fetch(`${baseUrl}/files`, {
        method: 'POST',
        body: form,
        headers: { authorization: `Bearer ${uploader.secret}` },
      });
      if (response.status !== 201) throw new Error(`Upload gave ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
    const uploadedSeconds = (performance.now() - start) / 1000;
    await untilIndexed(uploader.key.id);
    const uploadSeconds = (performance.now() - start) / 1000;

    console.log(
      `  bulk_upload (one task, ${FILES / 100} batches)  ${fmt(FILES / importSeconds, 1).padStart(7)} files/s  (${fmt(importSeconds, 1)} s, imported and indexed)`,
    );
    console.log(
      `  POST /files one by one         ${fmt(FILES / uploadSeconds, 1).padStart(7)} files/s  (${fmt(uploadSeconds, 1)} s; uploads alone ${fmt(uploadedSeconds, 1)} s)`,
    );
    console.log(
      `  import / uploads: ${fmt(uploadSeconds / importSeconds, 2)}x; process RSS at the end ${fmt(process.memoryUsage().rss / 1024 / 1024)} MB`,
    );
  } finally {
    await service.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
