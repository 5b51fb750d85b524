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

export class SearchFilesQuery {
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  q: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  k = 10;

  @IsOptional()
  @IsUUID()
  fileId?: string;
}

export class ListFilesQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  /** Files created before this time (the `createdAt` of the last item of the previous page). */
  @IsOptional()
  @IsDateString()
  before?: string;
}

export class UploadQuery {
  /** `false` stores the file without queuing `tasks.file.process_file`. */
  @IsOptional()
  @Transform(({ value }) =>
    value === 'false' || value === false ? false : value === 'true' || value === true ? true : value,
  )
  @IsIn([true, false], { message: 'process must be true or false' })
  process?: boolean;
}
