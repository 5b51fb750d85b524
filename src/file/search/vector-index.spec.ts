import { TopK } from './vector-index';

describe('TopK', () => {
  it('keeps the k highest scores in descending order', () => {
    const sut = new TopK(3);
    [0.1, 0.9, 0.5, 0.7, 0.2, 0.95].forEach((score, index) => sut.offer(index, score));
    expect(sut.scores).toEqual([0.95, 0.9, 0.7]);
    expect(sut.indexes).toEqual([5, 1, 3]);
  });

  it('holds fewer than k when fewer were offered', () => {
    const sut = new TopK(5);
    sut.offer(0, 0.3);
    sut.offer(1, 0.6);
    expect(sut.indexes).toEqual([1, 0]);
  });
});
