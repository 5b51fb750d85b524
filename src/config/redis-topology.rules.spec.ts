import { AppConfig } from './app-config';
import { parseRedisNodes } from './redis-topology.rules';

const SENTINELS = { REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_MASTER: 'mymaster' };
const CLUSTER = { REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    AppConfig.fromEnv(env);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').slice(1);
  }
}

describe('Redis topology configuration', () => {
  it('accepts each topology alone and counts it as Redis', () => {
    for (const env of [{ REDIS_URL: 'redis://r:6379/0' }, SENTINELS, CLUSTER]) {
      expect(problemsOf(env)).toEqual([]);
      expect(AppConfig.fromEnv(env).usesRedis).toBe(true);
    }
  });

  it('refuses two topologies, naming both', () => {
    expect(problemsOf({ REDIS_URL: 'redis://r:6379/0', ...CLUSTER })).toEqual([
      '  - REDIS_CLUSTER_NODES: REDIS_URL and REDIS_CLUSTER_NODES are both set; set exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES',
    ]);
    expect(problemsOf({ ...SENTINELS, ...CLUSTER })).toEqual([
      '  - REDIS_CLUSTER_NODES: REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set; set exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES',
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://r:6379/0', ...SENTINELS })).toEqual([
      '  - REDIS_SENTINELS: REDIS_URL and REDIS_SENTINELS are both set; set exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES',
    ]);
  });

  it('treats an empty variable as unset, so a blanked REDIS_URL does not clash', () => {
    expect(problemsOf({ REDIS_URL: '', ...CLUSTER })).toEqual([]);
  });

  it('requires the master name with sentinels, and well-formed node lists', () => {
    expect(problemsOf({ REDIS_SENTINELS: 'a:26379' })).toEqual([
      '  - REDIS_SENTINEL_MASTER: REDIS_SENTINEL_MASTER is required when REDIS_SENTINELS is set',
    ]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'redis-0' })).toEqual([
      '  - REDIS_CLUSTER_NODES: REDIS_CLUSTER_NODES must be a comma-separated list of host:port',
    ]);
    expect(problemsOf({ REDIS_SENTINELS: 'rediss://a:26379,b:26379', REDIS_SENTINEL_MASTER: 'm' })).toEqual([
      '  - REDIS_SENTINELS: REDIS_SENTINELS must use rediss:// on every node or on none',
    ]);
  });

  it('refuses the master name without sentinels, naming both', () => {
    const problem = [
      '  - REDIS_SENTINEL_MASTER: REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS; set REDIS_SENTINELS to the sentinels that watch it, or unset REDIS_SENTINEL_MASTER',
    ];
    expect(problemsOf({ REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual(problem);
    expect(problemsOf({ REDIS_URL: 'redis://r:6379/0', REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual(problem);
    expect(problemsOf({ REDIS_SENTINELS: '', REDIS_SENTINEL_MASTER: 'mymaster' })).toEqual(problem);
    expect(problemsOf({ REDIS_SENTINEL_MASTER: '' })).toEqual([]);
  });

  it('reads TLS from rediss:// entries, as REDIS_URL does', () => {
    expect(parseRedisNodes('rediss://a:7000, rediss://b.internal:7001')).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b.internal', port: 7001 },
      ],
      tls: true,
    });
    expect(parseRedisNodes('a:7000').tls).toBe(false);
  });
});
