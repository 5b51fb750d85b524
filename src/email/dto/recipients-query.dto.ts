import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/page-query';
import { EmailStatus } from '../entities/send-attempt.columns';

export const EMAIL_STATUSES: readonly EmailStatus[] = ['QUEUED', 'SENDING', 'SENT', 'FAILED'];

class RecipientFilters {
  @ApiPropertyOptional({ enum: EMAIL_STATUSES })
  @IsOptional()
  @IsIn(EMAIL_STATUSES)
  status?: EmailStatus;
}

export class RecipientsQuery extends PageQuery({ default: 100, minimum: 1, maximum: 1000 }, RecipientFilters) {
  /** The `nextCursor` of the previous page. */
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  cursor?: string;
}
