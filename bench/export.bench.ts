/**
 * `tasks.file.export_file` against Info-ZIP's `zip` on the same files in the same run:
 *   stored   — the random half (already-compressed content: PDF-wrapped random bytes), ours
 *              stores it by type, against `zip -r -0`;
 *   deflated — the text half, ours deflates it at level 6, against `zip -r -6`;
 *   mixed    — all files, ours stored/deflated by type (zip -6 and -0 shown beside it).
 * MB/s = source bytes / time (ours: the task's runtime; zip: its wall time). The worker runs in
 * its own process (`dist/main.js`, ROLE=worker, queue export) so its peak RSS (VmHWM) is its own.
 * Targets (issue #9): ≥ 0.8× zip's MB/s for each; worker peak RSS < 250 MB.
 *
 * Usage: npm run bench:export   (BENCH_EXPORT_MB default 1024, BENCH_EXPORT_FILES default 200;
 *        BENCH_NO_BUILD=1 skips `nest build`)
 */
import 'reflect-metadata';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, openAsBlob, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiKeyService } from '../src/auth/api-key.service';
import { startService } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { createBenchDatabase, fmt, REDIS_URL, sleep, uniquePrefix } from './support';

const ROOT = resolve(__dirname, '..');
const TOTAL_MB = Number(process.env.BENCH_EXPORT_MB ?? 1024);
const FILES = Number(process.env.BENCH_EXPORT_FILES ?? 200);
const WORDS =
  'river mountain library engine garden harbour market bridge season visitor record summer winter forest valley station museum theatre vector search index chunk quarterly report revenue customer'.split(
    ' ',
  );

/** Half text (words, compressible), half random bytes behind a PDF header (incompressible, stored by type). */
async function makeSources(dir: string): Promise<{ text: string[]; random: string[] }> {
  const each = Math.floor((TOTAL_MB * 1024 * 1024) / FILES);
  const text: string[] = [];
  const random: string[] = [];
  await mkdir(join(dir, 'text'), { recursive: true });
  await mkdir(join(dir, 'random'), { recursive: true });
  const line = () => Array.from({ length: 12 }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(' ') + '\n';
  const textBlock = Buffer.from(Array.from({ length: 4000 }, line).join(''));
  for (let i = 0; i < FILES; i++) {
    const isText = i % 2 === 0;
    const path = join(dir, isText ? 'text' : 'random', isText ? `doc-${i}.txt` : `scan-${i}.pdf`);
    const out = createWriteStream(path);
    let written = 0;
    if (!isText) {
      out.write('%PDF-1.7\n');
      written += 9;
    }
    while (written < each) {
      const block = isText ? textBlock : randomBytes(1024 * 1024);
      const piece = block.subarray(0, Math.min(block.length, each - written));
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
      written += piece.length;
    }
    await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
    (isText ? text : random).push(path);
  }
  return { text, random };
}

function zipSeconds(level: '-0' | '-6', cwd: string, relative: string[], out: string): number {
  const start = performance.now();
  const run = spawnSync('zip', ['-q', '-r', level, out, ...relative], { cwd });
  if (run.status !== 0) throw new Error(`zip failed: ${run.stderr}`);
  return (performance.now() - start) / 1000;
}

function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function main() {
  const database = await createBenchDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'export-bench-'));
  if (!process.env.BENCH_NO_BUILD) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: uniquePrefix('export'),
    LOG_LEVEL: 'error',
    STORAGE_DIR: join(dir, 'storage'),
    MAX_UPLOAD_BYTES: String(1024 * 1024 * 1024),
    PATH: process.env.PATH!,
  };
  const api = await startService(AppConfig.fromEnv({ ...env, ROLE: 'api', PORT: '0' }));
  const worker = spawn(process.execPath, [join(ROOT, 'dist/main.js')], {
    env: { ...env, ROLE: 'worker', WORKER_QUEUES: 'export', PORT: '0' },
    stdio: 'ignore',
  });
  try {
    console.log(
      `${fmt(TOTAL_MB)} MB over ${FILES} files (half text, half random), ${cpus().length} cores, loadavg ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
    const sources = await makeSources(join(dir, 'src'));
    const baseUrl = `http://127.0.0.1:${(api.app.getHttpServer().address() as { port: number }).port}`;
    const { secret } = await api.app.get(ApiKeyService).create('bench-export', 'client');
    const headers = { authorization: `Bearer ${secret}` };
    const ids = new Map<string, string>();
    for (const path of [...sources.text, ...sources.random]) {
      const form = new FormData();
      form.append('file', await openAsBlob(path), path.split('/').pop());
      const response = await fetch(`${baseUrl}/files?process=false`, { method: 'POST', body: form, headers });
      const body = (await response.json()) as { file: { id: string } };
      if (response.status !== 201) throw new Error(`Upload gave ${response.status}: ${JSON.stringify(body)}`);
      ids.set(path, body.file.id);
    }
    const exportOf = async (paths: string[]) => {
      const response = await fetch(`${baseUrl}/files/export`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ fileIds: paths.map((p) => ids.get(p)) }),
      });
      const { id } = (await response.json()) as { id: string };
      for (;;) {
        const task = (await (await fetch(`${baseUrl}/tasks/${id}`, { headers })).json()) as {
          state: string;
          runtimeMs: number;
          result: { size: number };
          error: unknown;
        };
        if (task.state === 'SUCCESS') return { seconds: task.runtimeMs / 1000, size: task.result.size };
        if (['FAILURE', 'REVOKED'].includes(task.state)) throw new Error(`Export ended ${JSON.stringify(task)}`);
        await sleep(50);
      }
    };
    const srcDir = join(dir, 'src');
    const rel = (paths: string[]) => paths.map((p) => p.slice(srcDir.length + 1));
    const mb = (paths: string[]) => (paths.length * Math.floor((TOTAL_MB * 1024 * 1024) / FILES)) / 1024 / 1024;
    const row = (label: string, sourceMb: number, ours: number, zip: number, zipLabel: string) =>
      console.log(
        `  ${label.padEnd(9)} ${fmt(sourceMb).padStart(6)} MB  export_file ${fmt(sourceMb / ours, 1).padStart(6)} MB/s   ${zipLabel} ${fmt(sourceMb / zip, 1).padStart(6)} MB/s   ours/zip ${fmt(zip / ours, 2)}x`,
      );
    const all = [...sources.text, ...sources.random];
    const stored = await exportOf(sources.random);
    const zip0 = zipSeconds('-0', srcDir, rel(sources.random), join(dir, 'z0.zip'));
    const deflated = await exportOf(sources.text);
    const zip6 = zipSeconds('-6', srcDir, rel(sources.text), join(dir, 'z6.zip'));
    const mixed = await exportOf(all);
    const zip6all = zipSeconds('-6', srcDir, rel(all), join(dir, 'z6all.zip'));
    const zip0all = zipSeconds('-0', srcDir, rel(all), join(dir, 'z0all.zip'));
    row('stored', mb(sources.random), stored.seconds, zip0, 'zip -r -0');
    row('deflated', mb(sources.text), deflated.seconds, zip6, 'zip -r -6');
    row('mixed', mb(all), mixed.seconds, zip6all, 'zip -r -6');
    console.log(
      `  ${''.padEnd(9)} ${''.padStart(6)}     ${''.padStart(24)}   zip -r -0 ${fmt(mb(all) / zip0all, 1).padStart(6)} MB/s`,
    );
    console.log(
      `  archive sizes: mixed ${fmt(mixed.size / 1024 / 1024, 1)} MB (deflated half ${fmt(deflated.size / 1024 / 1024, 1)} MB)`,
    );
    console.log(`  worker peak RSS (VmHWM, start-up included): ${fmt(peakRssMb(worker.pid!), 1)} MB`);
  } finally {
    worker.kill('SIGKILL');
    await api.stop();
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
