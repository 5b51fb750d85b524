import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The name the error schema has in the document. */
export const ERROR_SCHEMA_NAME = 'ErrorResponseDto';

export class FieldErrorDto {
  @ApiProperty({ example: 'args.to', description: 'The path of the field in the request' })
  field: string;

  @ApiProperty({ example: 'isEmail', description: 'The rule that failed (class-validator name or our own)' })
  rule: string;

  @ApiProperty({ example: 'args.to must be an email' })
  message: string;
}

/** Every 4xx and 5xx body: Nest's error shape, with the failed fields on a 400. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'args.to must be an email',
  })
  message: string | string[];

  @ApiPropertyOptional({ example: 'Bad Request' })
  error?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'On a 400: one entry per field that failed' })
  errors?: FieldErrorDto[];
}
