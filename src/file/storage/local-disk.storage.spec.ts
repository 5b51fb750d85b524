import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StorageNotFoundError } from './file-storage';
import { LocalDiskStorage } from './local-disk.storage';

describe('LocalDiskStorage', () => {
  let root: string;
  let sut: LocalDiskStorage;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'storage-spec-'));
    sut = new LocalDiskStorage(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes a stream, reads it back and deletes it', async () => {
    await sut.put('files/a/b', Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    await expect(sut.read('files/a/b')).resolves.toEqual(Buffer.from('hello world'));
    expect(await sut.exists('files/a/b')).toBe(true);
    await sut.delete('files/a/b');
    await expect(sut.read('files/a/b')).rejects.toBeInstanceOf(StorageNotFoundError);
    await expect(sut.open('files/a/b')).rejects.toBeInstanceOf(StorageNotFoundError);
  });

  it('leaves nothing behind when the source fails half-way', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(sut.put('files/x/y', failing)).rejects.toThrow('client went away');
    await expect(readdir(join(root, 'files/x'))).resolves.toEqual([]);
  });

  it('refuses keys that climb out of the root', async () => {
    await expect(sut.put('../escape', Readable.from(['x']))).rejects.toThrow(/outside the storage root/);
  });
});
