import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsDateString,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

import { PageQuery } from '../../common/page-query';

// Documented for /docs-json, so clients and the fuzz suite (test/fuzz) see these parameters.
export class SearchFilesQuery {
  @ApiProperty({ description: 'What to search for', maxLength: 2000 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  q: string;

  @ApiPropertyOptional({ description: 'How many chunks to return', default: 10, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  k = 10;

  @ApiPropertyOptional({ description: 'Only chunks of this file' })
  @IsOptional()
  @IsUUID()
  fileId?: string;
}

export class ListFilesQuery extends PageQuery({ default: 50, minimum: 1, maximum: 200 }) {
  /** Files created before this time (the `createdAt` of the last item of the previous page). */
  @ApiPropertyOptional({ description: 'createdAt of the last file of the previous page (ISO 8601)' })
  @IsOptional()
  @IsDateString()
  before?: string;
}

export class UploadQuery {
  /** `false` stores the file without queuing `tasks.file.process_file`. */
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'true', description: 'false: store without processing' })
  @IsOptional()
  @Transform(({ value }) =>
    value === 'false' || value === false ? false : value === 'true' || value === true ? true : value,
  )
  @IsIn([true, false], { message: 'process must be true or false' })
  process?: boolean;
}
