import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';

/** What the cache needs to know of a saved per-owner index (an HNSW graph, an int8 matrix). */
export interface VersionedIndex {
  version: string;
  readonly model: string;
  readonly dimension: number;
}

export interface OwnerIndexHooks<T extends VersionedIndex> {
  /** The index saved at `path`, or nothing when there is none (or it cannot be read). */
  open(path: string): T | null | undefined;
  /** An empty index, the base of a first build. */
  create(dimension: number, model: string): T;
  /** Brings `base` to the owner's current version (and saves it to `path`). */
  refresh(owner: string, model: string, base: T, path: string): Promise<T>;
}

/**
 * One persisted index per owner, model and dimension, as the approximate indexes keep them: the
 * owner's row in `file_index_versions` says whether the held (or saved) index is current, one
 * refresh at a time per owner brings it up to date, and the least recently searched owners are
 * dropped from memory beyond `maxOwners`.
 */
export class OwnerIndexCache<T extends VersionedIndex> {
  private readonly held = new Map<string, T>();
  private readonly refreshing = new Map<string, Promise<T>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly directory: string,
    private readonly maxOwners: number,
    private readonly hooks: OwnerIndexHooks<T>,
  ) {
    mkdirSync(directory, { recursive: true });
  }

  async get(owner: string, model: string, dimension: number): Promise<T> {
    const [row] = await this.dataSource.query(
      `SELECT version::text AS version FROM file_index_versions WHERE owner = $1`,
      [owner],
    );
    const version: string = row?.version ?? '0';
    const key = `${owner}\u0000${model}\u0000${dimension}`;
    const path = this.pathFor(key);
    let index = this.held.get(key);
    if (!index) {
      const saved = this.hooks.open(path);
      if (saved && saved.model === model && saved.dimension === dimension) index = saved;
    }
    if (!index || index.version !== version) {
      let pending = this.refreshing.get(key);
      if (!pending) {
        const base = index ?? this.hooks.create(dimension, model);
        pending = this.hooks.refresh(owner, model, base, path).finally(() => this.refreshing.delete(key));
        this.refreshing.set(key, pending);
      }
      index = await pending;
    }
    // Map order is the LRU order.
    this.held.delete(key);
    this.held.set(key, index);
    while (this.held.size > this.maxOwners) this.held.delete(this.held.keys().next().value as string);
    return index;
  }

  private pathFor(key: string): string {
    return join(this.directory, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }
}
