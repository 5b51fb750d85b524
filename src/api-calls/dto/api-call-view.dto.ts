import { ApiProperty } from '@nestjs/swagger';
import { TaskErrorDto } from '../../tasks/http/dto/task-view.dto';

// The response schema of GET /api-calls/:taskId (the ApiCall record), for the OpenAPI document
// and the clients generated from it.

export class ApiCallViewDto {
  @ApiProperty({ format: 'uuid' })
  taskId: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The id of the API key that submitted it' })
  owner: string | null;

  @ApiProperty({ enum: ['call', 'webhook'] })
  kind: string;

  @ApiProperty({ example: 'GET' })
  method: string;

  @ApiProperty()
  url: string;

  @ApiProperty({ type: String, nullable: true, description: 'Where the redirects ended' })
  finalUrl: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The webhook event' })
  event: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'As sent, credentials redacted',
  })
  requestHeaders: Record<string, string>;

  @ApiProperty({ type: Number, nullable: true })
  statusCode: number | null;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  responseHeaders: Record<string, string> | null;

  @ApiProperty({ type: String, nullable: true, description: 'The first bytes of the body, as text' })
  responseBody: string | null;

  @ApiProperty({ type: Number, nullable: true })
  responseBytes: number | null;

  @ApiProperty()
  responseTruncated: boolean;

  @ApiProperty({ type: Number, nullable: true })
  durationMs: number | null;

  @ApiProperty()
  attempts: number;

  @ApiProperty({ type: TaskErrorDto, nullable: true })
  error: TaskErrorDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt: Date | null;
}
