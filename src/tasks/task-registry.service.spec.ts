import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { defineTask, TaskHandler } from './task-definition';
import { editDistance, TaskRegistry } from './task-registry.service';

class Args {}
const Alpha = defineTask({ name: 'tasks.test.alpha', queue: 'default', description: 'a', payload: Args });
const Beta = defineTask({ name: 'tasks.test.beta', queue: 'default', description: 'b', payload: Args });

@Injectable()
class AlphaHandlers {
  @TaskHandler(Alpha)
  async alpha() {
    return 'alpha';
  }

  @TaskHandler(Beta)
  async beta() {
    return 'beta';
  }
}

@Injectable()
class DuplicateAlpha {
  @TaskHandler(Alpha)
  async again() {
    return 'again';
  }
}

async function boot(...providers: any[]) {
  return bootWith({}, ...providers);
}

async function bootWith(env: Record<string, string>, ...providers: any[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [{ provide: AppConfig, useValue: AppConfig.fromEnv(env) }, TaskRegistry, ...providers],
  }).compile();
  await moduleRef.init();
  return moduleRef.get(TaskRegistry);
}

describe('TaskRegistry', () => {
  it('binds every declared task to its handler and queue', async () => {
    const sut = await boot(AlphaHandlers);
    expect(sut.all().map((t) => [t.definition.name, t.queue])).toEqual([
      ['tasks.test.alpha', 'default'],
      ['tasks.test.beta', 'default'],
    ]);
    await expect(sut.get('tasks.test.beta')!.handler({}, {} as never)).resolves.toBe('beta');
  });

  it('sends a task where TASK_ROUTES says, and records which route did it', async () => {
    const sut = await bootWith({ TASK_ROUTES: '{"tasks.test.b*":"bees"}' }, AlphaHandlers);
    expect(sut.all().map((t) => [t.definition.name, t.queue, t.queueSource])).toEqual([
      ['tasks.test.alpha', 'default', 'declared'],
      ['tasks.test.beta', 'bees', 'TASK_ROUTES tasks.test.b*'],
    ]);
  });

  it('refuses to boot when a task has two handlers', async () => {
    await expect(boot(AlphaHandlers, DuplicateAlpha)).rejects.toThrow(/tasks\.test\.alpha has 2 handlers/);
  });

  it('refuses to boot when a declared task has no handler', async () => {
    await expect(boot()).rejects.toThrow(/tasks\.test\.alpha is declared but has no @TaskHandler/);
  });

  it('suggests close names', async () => {
    const sut = await boot(AlphaHandlers);
    expect(sut.closeNames('tasks.test.alpa')).toEqual(['tasks.test.alpha', 'tasks.test.beta']);
    expect(sut.closeNames('something.else.entirely')).toEqual([]);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('refuses to declare a name twice', () => {
    expect(() => defineTask({ name: 'tasks.test.alpha', queue: 'default', description: 'x', payload: Args })).toThrow(
      /declared twice/,
    );
  });
});
