import { uniqueRecipients } from './recipients';

describe('uniqueRecipients', () => {
  it('drops case-insensitive duplicates and keeps the first spelling in order', () => {
    const sut = uniqueRecipients([
      'Ann@Example.com',
      'bob@example.com',
      'ann@example.COM',
      ' bob@example.com ',
      'carl@example.com',
    ]);
    expect(sut).toEqual([
      { address: 'Ann@Example.com', key: 'ann@example.com' },
      { address: 'bob@example.com', key: 'bob@example.com' },
      { address: 'carl@example.com', key: 'carl@example.com' },
    ]);
  });

  it('skips blank entries', () => {
    expect(uniqueRecipients(['', '  ', 'a@b.co'])).toEqual([{ address: 'a@b.co', key: 'a@b.co' }]);
  });
});
