import { ApiProperty } from '@nestjs/swagger';
import { CREDIT_KINDS, CreditKind } from '../entities/credit-transaction.entity';

// Response schemas of the credits routes (toAccountView and toTransactionView in
// credit-accounts.service.ts), for the OpenAPI document and the clients generated from it.

export class CreditAccountDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'The id of the API key that owns the account' })
  owner: string;

  @ApiProperty({ type: String, nullable: true, description: "The caller's own user id" })
  externalUserId: string | null;

  @ApiProperty({ description: 'The sum of the ledger, never negative' })
  balance: number;

  @ApiProperty({ description: 'The part of the balance from grants that expire' })
  expiringBalance: number;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt: Date;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  links: Record<string, string>;
}

export class CreditAccountListDto {
  @ApiProperty({ type: [CreditAccountDto] })
  items: CreditAccountDto[];
}

export class CreditTransactionDto {
  @ApiProperty({ description: 'The ledger row id (a bigint, as a string)' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  accountId: string;

  @ApiProperty({ enum: CREDIT_KINDS })
  kind: CreditKind;

  @ApiProperty({ description: 'Signed: positive for grants and refunds, negative for consumes and expiries' })
  amount: number;

  @ApiProperty()
  balanceAfter: number;

  @ApiProperty({ type: String, nullable: true })
  reference: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({ type: String, nullable: true })
  idempotencyKey: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  taskId: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt: Date | null;

  @ApiProperty({ type: String, nullable: true })
  relatedId: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  counterpartyAccountId: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;
}

export class CreditTransactionPageDto {
  @ApiProperty({ type: [CreditTransactionDto] })
  items: CreditTransactionDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  nextCursor: string | null;
}
