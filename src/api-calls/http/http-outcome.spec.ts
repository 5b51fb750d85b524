import { bodyExcerpt, judgeStatus, keptResponseHeaders, redactHeaders, retryAfterMs } from './http-outcome';

describe('judgeStatus', () => {
  it.each([
    [200, undefined, 'success'],
    [204, undefined, 'success'],
    [304, undefined, 'fail'],
    [400, undefined, 'fail'],
    [404, undefined, 'fail'],
    [408, undefined, 'retry'],
    [429, undefined, 'retry'],
    [500, undefined, 'retry'],
    [503, undefined, 'retry'],
    [404, [200, 404], 'success'],
    [200, [201], 'fail'],
    [502, [201], 'retry'],
  ])('%s with expected %j is %s', (status, expected, verdict) => {
    expect(judgeStatus(status, expected)).toBe(verdict);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
});

describe('headers and bodies for the record', () => {
  it('redacts credentials but keeps their names', () => {
    expect(
      redactHeaders({ authorization: 'Bearer x', 'x-api-key': 'k', 'x-auth-token': 't', accept: 'application/json' }),
    ).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      'x-auth-token': '[redacted]',
      accept: 'application/json',
    });
  });

  it('keeps a subset of response headers and drops cookies', () => {
    expect(keptResponseHeaders({ 'content-type': 'text/plain', 'set-cookie': ['a=b'], 'x-request-id': 'r1' })).toEqual({
      'content-type': 'text/plain',
      'x-request-id': 'r1',
    });
  });

  it('truncates long bodies and drops NUL characters', () => {
    expect(bodyExcerpt(Buffer.from('abcdef'), 3)).toEqual({ text: 'abc', truncated: true });
    expect(bodyExcerpt(Buffer.from('a\u0000b'), 10)).toEqual({ text: 'ab', truncated: false });
  });
});
