import { DataSource } from 'typeorm';
import { Embedder } from '../embedding/embedder';
import { FileSearchService } from './file-search.service';
import { VectorHit, VectorIndex } from './vector-index';

const FILE = '00000000-0000-4000-8000-000000000001';

describe('FileSearchService', () => {
  it('returns only hits that score above 0, even when fewer than k', async () => {
    const hits = [
      { fileId: FILE, ordinal: 0, score: 0.41 },
      { fileId: FILE, ordinal: 1, score: 0.00004 }, // rounds to 0
      { fileId: FILE, ordinal: 2, score: 0 },
      { fileId: FILE, ordinal: 3, score: -0.0082 },
    ] as VectorHit[];
    const embedder = { model: 'm', embed: async () => [new Float32Array(4)] } as unknown as Embedder;
    const index = { search: async () => hits } as unknown as VectorIndex;
    const query = jest.fn(async (_sql: string, [, , ordinals]: [string, string[], number[]]) =>
      ordinals.map((ordinal) => ({ file_id: FILE, ordinal, text: `chunk ${ordinal}`, original_name: 'a.txt' })),
    );
    const sut = new FileSearchService(embedder, index, { query } as unknown as DataSource);

    const found = await sut.search('owner', '乌龙茶怎么泡', 4);

    expect(found.map((h) => [h.ordinal, h.score])).toEqual([[0, 0.41]]);
    expect(query.mock.calls[0][1][2]).toEqual([0]);
  });
});
