import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, NotFoundException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { allQueues } from './queue-transport';

/** The BullMQ queues of this deployment, by name. */
@Injectable()
export class TaskQueues {
  readonly names: string[];
  private readonly byName = new Map<string, Queue>();

  constructor(
    config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {
    this.names = allQueues(config);
  }

  get(name: string): Queue {
    let queue = this.byName.get(name);
    if (!queue) {
      if (!this.names.includes(name))
        throw new NotFoundException(`Unknown queue ${name}; queues are: ${this.names.join(', ')}`);
      queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      this.byName.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return this.names.map((name) => this.get(name));
  }
}
