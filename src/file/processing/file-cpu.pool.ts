import { OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Piscina } from 'piscina';
import { ContentAnalysis } from '../analysis/content-analysis';
import { ChunkOptions } from './chunker';
import { CpuResult, CpuTask, EmbedOutput, ExtractOutput } from './file-cpu.worker';
import { ExtractionError } from './text-extraction';

/**
 * The path piscina loads on each worker thread. From the build, the compiled sibling
 * `file-cpu.worker.js`. Under Jest or `node -r @swc-node/register` (bench) this file is
 * TypeScript and a worker thread cannot load `.ts` by itself; pointing at `dist/` would tie
 * the tests to a build that other runs rebuild (and delete) at any time. So a two-line
 * bootstrap written to the temp dir registers @swc-node/register in the thread and loads the
 * `.ts` worker from source.
 */
function workerFilename(): string {
  if (!__filename.endsWith('.ts')) return join(__dirname, 'file-cpu.worker.js');
  const dir = join(tmpdir(), 'task-service-file-worker');
  mkdirSync(dir, { recursive: true });
  const bootstrap = join(dir, `bootstrap-${process.pid}.js`);
  const register = require.resolve('@swc-node/register');
  const source = join(__dirname, 'file-cpu.worker.ts');
  writeFileSync(
    bootstrap,
    `require(${JSON.stringify(register)});\nmodule.exports = require(${JSON.stringify(source)});\n`,
  );
  return bootstrap;
}

/** Runs extraction, chunking, local embedding and analysis on worker threads (provided by a factory in file.module.ts). */
export class FileCpuPool implements OnApplicationShutdown {
  private pool?: Piscina<CpuTask, CpuResult<unknown>>;

  readonly threads: number;

  constructor(threads?: number) {
    this.threads = threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
  }

  extract(bytes: Buffer, name: string, chunking: ChunkOptions, signal?: AbortSignal): Promise<ExtractOutput> {
    return this.run<ExtractOutput>({ op: 'extract', bytes: transferable(bytes), name, chunking }, signal, true);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const { dimension, vectors } = await this.run<EmbedOutput>({ op: 'embed', texts }, signal, false);
    return texts.map((_, i) => vectors.subarray(i * dimension, (i + 1) * dimension));
  }

  analyze(bytes: Buffer, name: string, signal?: AbortSignal): Promise<ContentAnalysis> {
    return this.run<ContentAnalysis>({ op: 'analyze', bytes: transferable(bytes), name }, signal, true);
  }

  /** After `beforeApplicationShutdown`, where the workers let active tasks finish: the threads are needed until then. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool?.destroy();
  }

  private async run<T>(task: CpuTask, signal: AbortSignal | undefined, transfer: boolean): Promise<T> {
    // Created on first use: an api-only process never starts threads.
    // piscina itself loads then too: most processes never run a CPU task.
    this.pool ??= new (require('piscina') as typeof import('piscina')).Piscina({
      filename: workerFilename(),
      maxThreads: this.threads,
      minThreads: 0,
      idleTimeout: 30_000,
    });
    const transferList = transfer && 'bytes' in task ? [task.bytes.buffer as ArrayBuffer] : undefined;
    const result = (await this.pool.run(task, { signal, transferList })) as CpuResult<T>;
    if (result.ok) return result.value;
    throw result.unsupported ? new ExtractionError(result.message) : new Error(result.message);
  }
}

/** A copy that owns its whole ArrayBuffer, so it can be moved to the thread without copying again. */
function transferable(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
