import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { PageQuery } from '../../common/page-query';
import { ConsumeArgs, GrantArgs, RefundArgs } from '../credits.tasks';

export class OpeningGrantDto extends OmitType(GrantArgs, ['accountId', 'idempotencyKey'] as const) {}

export class CreateAccountDto {
  @ApiPropertyOptional({ description: 'Your own user id for this account; unique among your accounts', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  externalUserId?: string;

  @ApiPropertyOptional({
    type: OpeningGrantDto,
    description: 'Points granted in the same transaction that creates the account',
  })
  @IsOptional()
  // ValidateNested alone accepts an array (and validates its elements instead).
  @IsObject()
  @ValidateNested()
  @Type(() => OpeningGrantDto)
  openingGrant?: OpeningGrantDto;
}

export class GrantDto extends OmitType(GrantArgs, ['accountId'] as const) {}
export class ConsumeDto extends OmitType(ConsumeArgs, ['accountId'] as const) {}
export class RefundDto extends OmitType(RefundArgs, ['accountId'] as const) {}

class AccountFilters {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  externalUserId?: string;
}

export class ListAccountsQuery extends PageQuery({ default: 50, maximum: 200 }, AccountFilters) {}

export class ListTransactionsQuery extends PageQuery({ default: 50, maximum: 200 }) {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'cursor must be a nextCursor value from a previous page' })
  cursor?: string;
}
