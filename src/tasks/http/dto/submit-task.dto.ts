import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export const MAX_DELAY_MS = 30 * 24 * 3600 * 1000;
export const MAX_BATCH = 1000;
export const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

export class SubmitOptionsDto {
  @ApiPropertyOptional({ description: 'Milliseconds to wait before the task may run', maximum: MAX_DELAY_MS })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_DELAY_MS)
  delay?: number;

  @ApiPropertyOptional({
    description: '1 is the highest priority; unset runs in submission order',
    minimum: 1,
    maximum: 1000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional({
    description: "Milliseconds before the run is aborted; overrides the task's declared timeout",
    minimum: 100,
    maximum: MAX_TIMEOUT_MS,
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(MAX_TIMEOUT_MS)
  timeout?: number;

  @ApiPropertyOptional({ description: 'Same as the Idempotency-Key header' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  idempotencyKey?: string;
}

export class SubmitTaskDto {
  @ApiProperty({ example: 'tasks.system.noop', description: 'A registered task name (GET /tasks/registered)' })
  @IsString()
  @Length(1, 200)
  @Matches(/^[\w.:-]+$/, { message: 'name may only hold letters, digits, ".", "_", ":" and "-"' })
  name: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The task's arguments, validated against its payload schema",
  })
  @IsOptional()
  @IsObject()
  args?: Record<string, unknown>;

  @ApiPropertyOptional({ type: SubmitOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SubmitOptionsDto)
  options?: SubmitOptionsDto;
}

export class SubmitBatchDto {
  @ApiProperty({ type: [SubmitTaskDto], maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH)
  // ValidateNested alone lets an array element pass (it recurses into nested arrays).
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => SubmitTaskDto)
  tasks: SubmitTaskDto[];
}
