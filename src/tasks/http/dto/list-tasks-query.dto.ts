import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsEnum, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { PageQuery } from '../../../common/page-query';
import { TaskState } from '../../task-state';

class TaskFilters {
  @ApiPropertyOptional({ description: 'Exact task name, or a prefix ending in * (tasks.file.*)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ enum: TaskState })
  @IsOptional()
  @IsEnum(TaskState, { message: `state must be one of ${Object.values(TaskState).join(', ')}` })
  state?: TaskState;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date' })
  from?: Date;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date' })
  to?: Date;

  @ApiPropertyOptional({ description: 'Only the children of this task (e.g. the deliveries of a notification)' })
  @IsOptional()
  @IsUUID('all', { message: 'parentId must be a task id (UUID)' })
  parentId?: string;
}

export class ListTasksQuery extends PageQuery({ default: 50, maximum: 500 }, TaskFilters) {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a nextCursor value from a previous page' })
  cursor?: string;
}

export const MAX_WAIT_MS = 30_000;

export class GetTaskQuery {
  @ApiPropertyOptional({
    description: 'Long-poll: wait up to this many ms for the task to finish',
    maximum: MAX_WAIT_MS,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_MS)
  wait?: number;
}
