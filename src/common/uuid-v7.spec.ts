import { ParseUUIDPipe } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { uuidV7 } from './uuid-v7';

describe('uuidV7', () => {
  it('is a version 7, RFC 9562 variant UUID that every id check of the service accepts', async () => {
    const id = uuidV7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUUID(id)).toBe(true);
    await expect(new ParseUUIDPipe().transform(id, { type: 'param' })).resolves.toBe(id);
  });

  it('starts with the time in milliseconds, so ids sort by creation across milliseconds', () => {
    const at = Date.UTC(2026, 11, 6, 12, 0, 0, 123);
    expect(uuidV7(at).replace(/-/g, '').slice(0, 12)).toBe(at.toString(16).padStart(12, '0'));
    const ids = [0, 1, 2, 1000, 86_400_000].map((offset) => uuidV7(at + offset));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs in its random bits within one millisecond, across pool refills', () => {
    const at = Date.now();
    const ids = new Set(Array.from({ length: 2000 }, () => uuidV7(at)));
    expect(ids.size).toBe(2000);
  });
});
