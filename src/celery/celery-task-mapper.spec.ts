import { RegisteredTask } from '../tasks/task-registry.service';
import { SleepArgs, SleepTask } from '../tasks/system/system.tasks';
import { CeleryTaskMessage } from './celery-message';
import { toSubmitRequest } from './celery-task-mapper';

const ID = '5f0c7a57-3b0e-4a5e-9f5e-6d3c1f0b2a11';
const OWNER = '0c5e0f3e-8a4c-4f7e-9a55-1e2d3c4b5a69';
const sleepTask = { definition: SleepTask, queue: 'default' } as unknown as RegisteredTask;

function message(overrides: Partial<CeleryTaskMessage> = {}): CeleryTaskMessage {
  return {
    id: ID,
    task: 'tasks.system.sleep',
    args: [50],
    kwargs: {},
    eta: null,
    expires: null,
    timelimit: [null, null],
    retries: 0,
    priority: null,
    parentId: null,
    rootId: null,
    workflow: [],
    deliveryTag: 't',
    exchange: '',
    routingKey: 'celery',
    redelivered: false,
    ...overrides,
  };
}

describe('toSubmitRequest', () => {
  it('keeps the Celery id, binds args through the signature and maps eta, timelimit, priority and parents', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    const sut = toSubmitRequest(
      message({
        args: [50],
        kwargs: { fail_times: 1 },
        eta: new Date(now + 2500),
        timelimit: [30, 10],
        priority: 5,
        parentId: OWNER,
        rootId: ID,
      }),
      sleepTask,
      OWNER,
      now,
    );
    expect(sut).toEqual({
      id: ID,
      name: 'tasks.system.sleep',
      args: { ms: 50, failTimes: 1 } satisfies SleepArgs,
      owner: OWNER,
      delayMs: 2500,
      priority: 5,
      timeoutMs: 30_000,
      parentId: OWNER,
      requestId: `celery root=${ID}`,
    });
  });

  it('takes the soft limit when no hard one is given, and no delay for a past eta', () => {
    const sut = toSubmitRequest(message({ timelimit: [null, 2], eta: new Date(0) }), sleepTask, OWNER);
    expect(sut).toMatchObject({ timeoutMs: 2000, delayMs: undefined, requestId: 'celery' });
  });

  it('refuses what a Celery worker would report as a failure', () => {
    expect(() => toSubmitRequest(message(), undefined, OWNER)).toThrow(
      expect.objectContaining({ excType: 'NotRegistered' }),
    );
    expect(() => toSubmitRequest(message({ id: 'custom-id' }), sleepTask, OWNER)).toThrow(
      expect.objectContaining({ excType: 'ValueError' }),
    );
    expect(() => toSubmitRequest(message({ workflow: ['chain'] }), sleepTask, OWNER)).toThrow(
      expect.objectContaining({ excType: 'NotImplementedError' }),
    );
    expect(() => toSubmitRequest(message({ args: [1, 2, 3] }), sleepTask, OWNER)).toThrow(
      expect.objectContaining({ excType: 'TypeError' }),
    );
    expect(() => toSubmitRequest(message({ args: [-1] }), sleepTask, OWNER)).toThrow(
      expect.objectContaining({ excType: 'ValueError' }),
    );
  });
});
