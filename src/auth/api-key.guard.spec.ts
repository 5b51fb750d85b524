import { extractApiKey } from './api-key.guard';

const basic = (text: string | Buffer) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('extractApiKey', () => {
  it('reads Bearer and Basic (the key is the password)', () => {
    expect(extractApiKey('Bearer abc123')).toBe('abc123');
    expect(extractApiKey('bearer   abc123 ')).toBe('abc123');
    expect(extractApiKey(basic('anyone:abc:123'))).toBe('abc:123');
  });

  it.each([
    ['no scheme value', 'Basic'],
    ['only spaces', 'Basic    '],
    ['not base64', 'Basic !!!@@@###'],
    ['base64 with trailing garbage', `${basic('u:key')}$$`],
    ['base64 without padding', 'Basic dTprZXk'],
    ['no colon', basic('justakey')],
    ['an empty password', basic('user:')],
    ['a NUL in the password', basic('user:ke\u0000y')],
    ['control characters', basic('user:\u001b[31mkey')],
    [
      'invalid UTF-8',
      `Basic ${Buffer.concat([Buffer.from('u:'), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]).toString('base64')}`,
    ],
    ['a huge header', `Bearer ${'k'.repeat(10_000)}`],
    ['another scheme', 'Digest username="x"'],
  ])('refuses a garbled header: %s', (_case, header) => {
    expect(extractApiKey(header)).toBeNull();
  });
});
