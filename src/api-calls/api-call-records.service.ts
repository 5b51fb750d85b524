import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isAdmin, Principal } from '../auth/principal';
import { ApiCall, ApiCallKind } from './entities/api-call.entity';

/** What the record knows before the request goes out. */
export interface ApiCallStart {
  taskId: string;
  owner: string | null;
  attempt: number;
  kind: ApiCallKind;
  method: string;
  url: string;
  event?: string;
  requestHeaders: Record<string, string>;
}

export type ApiCallOutcome = Partial<
  Pick<
    ApiCall,
    | 'finalUrl'
    | 'statusCode'
    | 'responseHeaders'
    | 'responseBody'
    | 'responseBytes'
    | 'responseTruncated'
    | 'durationMs'
    | 'error'
    | 'finishedAt'
  >
>;

/** The `api_calls` rows: one per task, updated by each attempt. */
@Injectable()
export class ApiCallRecords {
  constructor(@InjectRepository(ApiCall) private readonly calls: Repository<ApiCall>) {}

  /** Creates the row on the first attempt; a later attempt (or a redelivery) only bumps the count. */
  async start(call: ApiCallStart): Promise<void> {
    const now = new Date();
    await this.calls
      .createQueryBuilder()
      .insert()
      .into(ApiCall)
      .values({
        taskId: call.taskId,
        owner: call.owner,
        kind: call.kind,
        method: call.method,
        url: call.url,
        event: call.event ?? null,
        requestHeaders: call.requestHeaders,
        attempts: call.attempt,
        responseTruncated: false,
        createdAt: now,
        updatedAt: now,
      })
      .orUpdate(['attempts', 'updated_at', 'request_headers'], ['task_id'])
      .updateEntity(false)
      .execute();
  }

  async finish(taskId: string, outcome: ApiCallOutcome): Promise<void> {
    await this.calls.update({ taskId }, { ...outcome, updatedAt: new Date() });
  }

  /** The record if `principal` may see it: its owner, or an admin. */
  async findVisible(taskId: string, principal: Principal): Promise<ApiCall | null> {
    const call = await this.calls.findOneBy({ taskId });
    return call && (isAdmin(principal) || call.owner === principal.keyId) ? call : null;
  }
}
