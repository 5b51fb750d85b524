import { AppConfig } from '../../config/app-config';
import { ApiCallsEnvironment } from '../api-calls.environment';
import { hostLimitsProblem, limitFor } from './host-limits';

describe('API_CALLS_HOST_LIMITS', () => {
  const section = (value: string) => AppConfig.fromEnv({ API_CALLS_HOST_LIMITS: value }).section(ApiCallsEnvironment);

  it('parses hosts and wildcards with a rate, a concurrency or both', () => {
    const sut = section('{"api.example.com":{"ratePerSecond":10,"concurrency":4},"*.svc.local":{"concurrency":2}}');
    expect(sut.API_CALLS_HOST_LIMITS).toEqual({
      'api.example.com': { ratePerSecond: 10, concurrency: 4 },
      '*.svc.local': { concurrency: 2 },
    });
  });

  it.each([
    ['not json', /must be a JSON object of host/],
    ['[1]', /must be a JSON object of host/],
    ['{"API.example.com":{"concurrency":1}}', /key "API.example.com" must be a lower-case host name/],
    ['{"a.com":{}}', /entry a.com may set only ratePerSecond and concurrency/],
    ['{"a.com":{"burst":3}}', /entry a.com may set only ratePerSecond and concurrency/],
    ['{"a.com":{"ratePerSecond":0}}', /ratePerSecond must be an integer from 1 to 10000/],
    ['{"a.com":{"concurrency":1.5}}', /concurrency must be an integer from 1 to 1000/],
  ])('refuses %s at boot, naming the variable and the rule', (value, rule) => {
    expect(() => section(value)).toThrow(/API_CALLS_HOST_LIMITS/);
    expect(() => section(value)).toThrow(rule);
  });

  it('an exact host beats a wildcard; the longest wildcard wins; other hosts have no limit', () => {
    const limits = {
      'a.svc.local': { concurrency: 1 },
      '*.svc.local': { concurrency: 2 },
      '*.b.svc.local': { concurrency: 3 },
    };
    expect(limitFor(limits, 'A.svc.local')).toEqual({ key: 'a.svc.local', limit: { concurrency: 1 } });
    expect(limitFor(limits, 'x.b.svc.local')).toEqual({ key: '*.b.svc.local', limit: { concurrency: 3 } });
    expect(limitFor(limits, 'c.svc.local')).toEqual({ key: '*.svc.local', limit: { concurrency: 2 } });
    expect(limitFor(limits, 'svc.local.evil.com')).toBeNull();
    expect(hostLimitsProblem({ 'a.com': { ratePerSecond: 5 } })).toBeNull();
  });
});
