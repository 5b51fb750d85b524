import { AppConfig } from '../../config/app-config';
import { RetryAfterError } from '../retry-after.error';
import { PLANNED_DELAY, retryDelayMs, taskBackoffStrategy, TaskRetryPolicies } from './task-retry-policy';
import { TaskRegistry } from '../task-registry.service';

const registry = {
  get: (name: string) => (name === 'tasks.a' ? { definition: { retry: { attempts: 3, backoffMs: 1000 } } } : undefined),
} as unknown as TaskRegistry;

describe('TASK_RETRY_OVERRIDES', () => {
  it('overrides the declared policy, key by key', () => {
    const config = AppConfig.fromEnv({ TASK_RETRY_OVERRIDES: '{"tasks.a":{"attempts":5}}' });
    const sut = new TaskRetryPolicies(config, registry);
    sut.onModuleInit();
    expect(sut.policyFor('tasks.a')).toEqual({ attempts: 5, backoffMs: 1000 });
  });

  it.each([
    ['not json', 'must be a JSON object'],
    ['[1]', 'must be a JSON object'],
    ['{"tasks.a":{"attempts":0}}', 'attempts must be an integer from 1 to 100'],
    ['{"tasks.a":{"backoffMs":-1}}', 'backoffMs must be an integer'],
    ['{"tasks.a":{"tries":2}}', 'may set only attempts and backoffMs'],
  ])('refuses %s at boot, naming the variable and the rule', (value, rule) => {
    expect(() => AppConfig.fromEnv({ TASK_RETRY_OVERRIDES: value })).toThrow(/TASK_RETRY_OVERRIDES/);
    expect(() => AppConfig.fromEnv({ TASK_RETRY_OVERRIDES: value })).toThrow(rule);
  });

  it('refuses an override for a task that does not exist', () => {
    const config = AppConfig.fromEnv({ TASK_RETRY_OVERRIDES: '{"tasks.missing":{"attempts":2}}' });
    expect(() => new TaskRetryPolicies(config, registry).onModuleInit()).toThrow(
      /no task is registered as tasks.missing/,
    );
  });
});

describe('retry delays', () => {
  it('takes a RetryAfterError delay as is, else exponential backoff with up to 50 % jitter', () => {
    expect(retryDelayMs(new RetryAfterError(60_000), 1, 1000)).toBe(60_000);
    for (let i = 0; i < 50; i++) {
      const third = retryDelayMs(new Error('x'), 3, 1000);
      expect(third).toBeGreaterThanOrEqual(2000);
      expect(third).toBeLessThanOrEqual(4000);
    }
  });

  it('hands BullMQ the delay the runner planned', () => {
    const error = Object.assign(new Error('x'), { [PLANNED_DELAY]: 1234 });
    expect(taskBackoffStrategy(1, 'task', error, { opts: { backoff: { delay: 10 } } })).toBe(1234);
  });

  it('rejects a negative delay', () => {
    expect(() => new RetryAfterError(-1)).toThrow(RangeError);
  });
});
