import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AnnGraph, AnnSettings, DEFAULT_ANN_SETTINGS } from './ann-graph';
import { readFileFingerprints, readSegments } from './chunk-vectors';
import { ExactVectorIndex } from './exact-vector-index';
import { OwnerIndexCache } from './owner-index-cache';
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
  private readonly graphs: OwnerIndexCache<AnnGraph>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ApproximateIndexOptions,
    private readonly exact = new ExactVectorIndex(dataSource, options.maxOwners),
  ) {
    const settings = options.settings ?? DEFAULT_ANN_SETTINGS;
    this.graphs = new OwnerIndexCache<AnnGraph>(dataSource, options.directory, options.maxOwners, {
      open: (path) => AnnGraph.open(path),
      create: (dimension, model) => new AnnGraph(dimension, settings, '0', model),
      refresh: (owner, model, base, path) => this.refresh(owner, model, base, path),
    });
  }

  async search(query: VectorQuery): Promise<VectorHit[]> {
    if (query.exact || query.fileId !== undefined) return this.exact.search(query);
    const graph = await this.graphs.get(query.owner, query.model, query.vector.length);
    if (graph.size < this.options.exactBelow) return this.exact.search(query);
    return graph.search(query.vector, query.k);
  }

  /** Brings `graph` to the owner's current version in one snapshot, then saves it. */
  private async refresh(owner: string, model: string, graph: AnnGraph, path: string): Promise<AnnGraph> {
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
    graph.save(path);
    this.logger.debug(
      `Refreshed the search graph of owner ${owner}: ${changed} files re-added, ${graph.size} chunks, ${Date.now() - started} ms`,
    );
    return graph;
  }
}
