import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { Repository } from 'typeorm';
import { ApiKey } from '../auth/entities/api-key.entity';

/**
 * Stats cover every client's tasks, so only the service itself (owner null) and admin keys may
 * run them: a client could otherwise submit one through `POST /tasks` and read the result.
 */
@Injectable()
export class StatsAccess {
  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  async assertOperator(owner: string | null): Promise<void> {
    if (owner === null) return;
    const key = await this.keys.findOneBy({ id: owner });
    if (key?.role !== 'admin')
      throw new UnrecoverableError(
        'tasks.stats.* are operator tasks: only an admin key (or the service itself) may run them',
      );
  }
}
