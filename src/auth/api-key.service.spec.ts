import { Repository } from 'typeorm';
import { ApiKeyService, hashApiKey } from './api-key.service';
import { ApiKey } from './entities/api-key.entity';

function serviceWith(known: string[]) {
  const rows = new Map(
    known.map((secret, i) => [hashApiKey(secret), { id: `k${i}`, name: `key ${i}`, role: 'client' }]),
  );
  const findOneBy = jest.fn(async ({ keyHash }: { keyHash: string }) => rows.get(keyHash) ?? null);
  const sut = new ApiKeyService({ findOneBy } as unknown as Repository<ApiKey>);
  return { sut, findOneBy };
}

describe('ApiKeyService.verify', () => {
  it('answers a known key from the cache after the first lookup', async () => {
    const { sut, findOneBy } = serviceWith(['tsk_real']);
    await expect(sut.verify('tsk_real')).resolves.toEqual({ keyId: 'k0', name: 'key 0', role: 'client' });
    await expect(sut.verify('tsk_real')).resolves.toEqual({ keyId: 'k0', name: 'key 0', role: 'client' });
    expect(findOneBy).toHaveBeenCalledTimes(1);
  });

  it('keeps a real key cached through a flood of made-up keys', async () => {
    const { sut, findOneBy } = serviceWith(['tsk_real']);
    await sut.verify('tsk_real');
    for (let i = 0; i < 12_000; i++) await expect(sut.verify(`tsk_fake_${i}`)).resolves.toBeNull();
    findOneBy.mockClear();
    await expect(sut.verify('tsk_real')).resolves.not.toBeNull();
    expect(findOneBy).not.toHaveBeenCalled();
  });
});
