import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('writes a lone item at once, in a group of one', async () => {
    const groups: number[][] = [];
    const commit = new GroupCommit<number, string>(async (items) => (groups.push(items), items.map(String)), 2, 10);
    expect(await commit.add(1)).toBe('1');
    expect(groups).toEqual([[1]]);
  });

  it('puts items that arrive while writes run into the next write, each caller getting its own result', async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commit = new GroupCommit<number, number>(
      async (items) => {
        groups.push(items);
        if (groups.length === 1) await gate;
        return items.map((i) => i * 10);
      },
      1,
      3,
    );
    const first = commit.add(1);
    await new Promise((r) => setImmediate(r));
    const rest = [2, 3, 4, 5].map((i) => commit.add(i));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
    // At most 3 a group, in arrival order.
    expect(groups).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('fails every item of a failed write, and only those', async () => {
    let calls = 0;
    const commit = new GroupCommit<number, number>(
      async (items) => {
        if (calls++ === 0) throw new Error('database down');
        return items;
      },
      1,
      10,
    );
    const failed = [commit.add(1), commit.add(2)];
    await expect(Promise.all(failed)).rejects.toThrow('database down');
    await expect(failed[1]).rejects.toThrow('database down');
    expect(await commit.add(3)).toBe(3);
  });
});
