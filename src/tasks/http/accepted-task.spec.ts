import type { FastifyReply } from 'fastify';
import { TaskRun } from '../records/entities/task-run.entity';
import { acceptedTask } from './accepted-task';

function reply() {
  const sent = { status: 0, headers: {} as Record<string, string> };
  const response = {
    status: (code: number) => ((sent.status = code), response),
    header: (name: string, value: string) => ((sent.headers[name] = value), response),
  };
  return { sent, response: response as unknown as FastifyReply };
}

const run = Object.assign(new TaskRun(), {
  id: 'f2b0c6c6-5d0e-4a39-9c55-0c3c4bd4a0f1',
  name: 'tasks.system.noop',
  args: {},
  enqueuedAt: new Date(),
  error: null,
});

describe('acceptedTask', () => {
  it('answers 202 with the task view and Location at the task', () => {
    const { sent, response } = reply();
    expect(acceptedTask(response, { run, created: true })).toMatchObject({ id: run.id, queued: true });
    expect(sent).toEqual({ status: 202, headers: { Location: `/tasks/${run.id}` } });
  });

  it('answers 200 for the earlier task of an Idempotency-Key, at the Location given', () => {
    const { sent, response } = reply();
    acceptedTask(response, { run, created: false }, `/emails/${run.id}`);
    expect(sent).toEqual({ status: 200, headers: { Location: `/emails/${run.id}` } });
  });
});
