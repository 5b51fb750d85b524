import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EMBEDDER, Embedder } from '../embedding/embedder';
import { words } from '../processing/text-units';
import { VECTOR_INDEX, VectorIndex } from './vector-index';

export interface SearchHit {
  fileId: string;
  fileName: string;
  ordinal: number;
  score: number;
  snippet: string;
}

const SNIPPET_CHARS = 240;

/** Semantic search over the caller's chunks: embed the query, ask the {@link VectorIndex}, fetch texts for the hits. */
@Injectable()
export class FileSearchService {
  constructor(
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    private readonly dataSource: DataSource,
  ) {}

  async search(owner: string, q: string, k: number, fileId?: string): Promise<SearchHit[]> {
    const [vector] = await this.embedder.embed([q]);
    // A score of 0 or below (as rounded here) means unrelated: fewer than k hits beat filling k with noise.
    const hits = (await this.index.search({ owner, model: this.embedder.model, vector, k, fileId })).filter(
      (hit) => roundScore(hit.score) > 0,
    );
    if (hits.length === 0) return [];
    const rows: { file_id: string; ordinal: number; text: string; original_name: string }[] =
      await this.dataSource.query(
        `SELECT c.file_id, c.ordinal, c.text, f.original_name
         FROM file_chunks c JOIN files f ON f.id = c.file_id
        WHERE f.owner = $1 AND (c.file_id, c.ordinal) IN (SELECT * FROM unnest($2::uuid[], $3::int[]))`,
        [owner, hits.map((h) => h.fileId), hits.map((h) => h.ordinal)],
      );
    const byKey = new Map(rows.map((r) => [`${r.file_id}:${r.ordinal}`, r]));
    const terms = words(q);
    return hits.flatMap((hit) => {
      const row = byKey.get(`${hit.fileId}:${hit.ordinal}`);
      // A chunk deleted since the index was loaded is skipped rather than reported.
      if (!row) return [];
      return [
        {
          fileId: hit.fileId,
          fileName: row.original_name,
          ordinal: hit.ordinal,
          score: roundScore(hit.score),
          snippet: snippet(row.text, terms),
        },
      ];
    });
  }
}

function roundScore(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}

/** About {@link SNIPPET_CHARS} characters around the first query word found in the text (case-insensitive). */
export function snippet(text: string, terms: string[]): string {
  const lower = text.toLowerCase();
  const at =
    terms
      .map((t) => lower.indexOf(t))
      .filter((i) => i >= 0)
      .sort((a, b) => a - b)[0] ?? 0;
  const start = Math.max(0, at - SNIPPET_CHARS / 3);
  const end = Math.min(text.length, start + SNIPPET_CHARS);
  const body = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}
