import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AnnGraph, AnnSettings, DEFAULT_ANN_SETTINGS } from './ann-graph';
import { readFileFingerprints, readSegments } from './chunk-vectors';
import { ExactVectorIndex } from './exact-vector-index';
import { VectorHit, VectorIndex, VectorQuery } from './vector-index';

export interface ApproximateIndexOptions {
  /** Where each owner's graph and manifest are saved (one pair per owner and model). */
  directory: string;
  /** Owners whose graphs stay in memory (least recently searched dropped first). */
  maxOwners: number;
  /** Below this many chunks the exact scan answers: it is as fast there and never misses. */
  exactBelow: number;
  settings?: AnnSettings;
}

/**
 * Approximate cosine search (HNSW graphs by usearch), one graph per owner and model, kept in
 * step with `file_index_versions` like {@link ExactVectorIndex}: after a change only the files
 * whose fingerprint changed are read and re-added. Each refreshed graph is saved, so a restarted
 * process memory-maps it instead of reading every vector again. Queries restricted to one file,
 * queries with `exact: true` and small owners go to the exact index.
 */
export class ApproximateVectorIndex implements VectorIndex {
  private readonly logger = new Logger(ApproximateVectorIndex.name);
  private readonly graphs = new Map<string, AnnGraph>();
  private readonly refreshing = new Map<string, Promise<AnnGraph>>();
  private readonly settings: AnnSettings;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ApproximateIndexOptions,
    private readonly exact = new ExactVectorIndex(dataSource, options.maxOwners),
  ) {
    this.settings = options.settings ?? DEFAULT_ANN_SETTINGS;
    mkdirSync(options.directory, { recursive: true });
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.exact || query.fileId !== undefined) return this.exact.search(query);
    const graph = await this.graphFor(query.owner, query.model, query.vector.length);
    if (graph.size < this.options.exactBelow) return this.exact.search(query);
    return graph.search(query.vector, query.k);
  }

  private async graphFor(owner: string, model: string, dimension: number): Promise<AnnGraph> {
    const [row] = await this.dataSource.query(
      `SELECT version::text AS version FROM file_index_versions WHERE owner = $1`,
      [owner],
    );
    const version: string = row?.version ?? '0';
    const key = `${owner}\u0000${model}\u0000${dimension}`;
    let graph = this.graphs.get(key);
    if (!graph) {
      const saved = AnnGraph.open(this.pathFor(key));
      if (saved && saved.model === model && saved.dimension === dimension) graph = saved;
    }
    if (!graph || graph.version !== version) {
      let pending = this.refreshing.get(key);
      if (!pending) {
        pending = this.refresh(owner, model, graph ?? new AnnGraph(dimension, this.settings, '0', model), key).finally(
          () => this.refreshing.delete(key),
        );
        this.refreshing.set(key, pending);
      }
      graph = await pending;
    }
    this.remember(key, graph);
    return graph;
  }

  /** Brings `graph` to the owner's current version in one snapshot, then saves it. */
  private async refresh(owner: string, model: string, graph: AnnGraph, key: string): Promise<AnnGraph> {
    const started = Date.now();
    const changed = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const [row] = await manager.query(`SELECT version::text AS version FROM file_index_versions WHERE owner = $1`, [
        owner,
      ]);
      const files = await readFileFingerprints(manager, owner, model);
      const current = new Map(files.map((f) => [f.id, f.fingerprint]));
      for (const fileId of graph.fileIds()) if (!current.has(fileId)) graph.removeFile(fileId);
      const stale = files.filter((f) => graph.fingerprint(f.id) !== f.fingerprint).map((f) => f.id);
      for (const segment of await readSegments(manager, stale, current)) {
        if (segment.dimension === graph.dimension)
          graph.upsertFile(segment.fileId, segment.fingerprint, segment.vectors, segment.ordinals);
        else graph.removeFile(segment.fileId);
      }
      graph.version = row?.version ?? '0';
      return stale.length;
    });
    graph.save(this.pathFor(key));
    this.logger.debug(
      `Refreshed the search graph of owner ${owner}: ${changed} files re-added, ${graph.size} chunks, ${Date.now() - started} ms`,
    );
    return graph;
  }

  private pathFor(key: string): string {
    return join(this.options.directory, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  private remember(key: string, graph: AnnGraph): void {
    this.graphs.delete(key);
    this.graphs.set(key, graph);
    while (this.graphs.size > this.options.maxOwners) this.graphs.delete(this.graphs.keys().next().value as string);
  }
}
