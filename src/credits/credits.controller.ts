import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { AdminOnly, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { fieldErrorsException } from '../common/field-errors';
import { acceptedTask } from '../tasks/http/accepted-task';
import { SubmitContext, TakesIdempotencyKey } from '../tasks/http/submit-context';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { TaskDefinition } from '../tasks/task-definition';
import { CreditAccess } from './credit-access.service';
import { futureAsOf } from './credit-as-of';
import { CreditAccountsService, toAccountView, toTransactionView } from './credit-accounts.service';
import {
  ConsumeTask,
  CreditOperationArgs,
  ExpireArgs,
  ExpireTask,
  GrantTask,
  RefundTask,
  TransferArgs,
  TransferTask,
} from './credits.tasks';
import {
  ConsumeDto,
  CreateAccountDto,
  GrantDto,
  ListAccountsQuery,
  ListTransactionsQuery,
  RefundDto,
} from './dto/credit-requests.dto';
import { CreditAccountDto, CreditAccountListDto, CreditTransactionPageDto } from './dto/credit-views.dto';

/**
 * Credit accounts and their ledger. Reads are synchronous; every change is a task on the
 * `credits` queue (202 with the task, polled at `GET /tasks/:id` like any other).
 */
@ApiTags('credits')
@ApiBearerAuth()
@Controller('credits')
export class CreditsController {
  constructor(
    private readonly accounts: CreditAccountsService,
    private readonly access: CreditAccess,
    private readonly submission: TaskSubmissionService,
  ) {}

  @Post('accounts')
  @ApiOperation({ summary: 'Create an account, optionally with an opening grant (201)' })
  @ApiCreatedResponse({ type: CreditAccountDto })
  async create(@Body() body: CreateAccountDto, @CurrentPrincipal() principal: Principal) {
    if (body.openingGrant) assertOneExpiry(body.openingGrant, 'openingGrant.');
    return toAccountView(await this.accounts.create(principal.keyId, body));
  }

  @Get('accounts')
  @ApiOperation({ summary: 'Your accounts, newest first (all accounts for an admin)' })
  @ApiOkResponse({ type: CreditAccountListDto })
  async list(@Query() query: ListAccountsQuery, @CurrentPrincipal() principal: Principal) {
    return { items: (await this.accounts.list(this.access.scopeOf(principal), query)).map(toAccountView) };
  }

  @Get('accounts/:id')
  @ApiOperation({ summary: "An account's balance" })
  @ApiOkResponse({ type: CreditAccountDto })
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: Principal) {
    return toAccountView(await this.accounts.findVisible(id, this.access.scopeOf(principal)));
  }

  @Get('accounts/:id/transactions')
  @ApiOperation({ summary: "An account's ledger, newest first, keyset-paginated" })
  @ApiOkResponse({ type: CreditTransactionPageDto })
  async transactions(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: ListTransactionsQuery,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.accounts.findVisible(id, this.access.scopeOf(principal));
    const { items, nextCursor } = await this.accounts.transactionsOf(id, query);
    return { items: items.map(toTransactionView), nextCursor };
  }

  @Post('accounts/:id/grant')
  @ApiOperation({ summary: 'Submit tasks.credits.grant (202 with the task)' })
  @TakesIdempotencyKey()
  async grant(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: GrantDto,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    assertOneExpiry(body, '');
    await this.accounts.findVisible(id, this.access.scopeOf(context.principal));
    return this.submit(GrantTask, { ...body, accountId: id }, id, context, response);
  }

  @Post('accounts/:id/consume')
  @ApiOperation({ summary: 'Submit tasks.credits.consume (202 with the task)' })
  @TakesIdempotencyKey()
  async consume(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ConsumeDto,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    await this.accounts.findVisible(id, this.access.scopeOf(context.principal));
    return this.submit(ConsumeTask, { ...body, accountId: id }, id, context, response);
  }

  @Post('accounts/:id/refund')
  @ApiOperation({ summary: 'Submit tasks.credits.refund of an earlier consume (202 with the task)' })
  @TakesIdempotencyKey()
  async refund(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: RefundDto,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    await this.accounts.findVisible(id, this.access.scopeOf(context.principal));
    return this.submit(RefundTask, { ...body, accountId: id }, id, context, response);
  }

  @Post('transfers')
  @ApiOperation({ summary: 'Submit tasks.credits.transfer between two of your accounts (202 with the task)' })
  @TakesIdempotencyKey()
  async transfer(
    @Body() body: TransferArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    if (body.fromAccountId === body.toAccountId) {
      throw fieldErrorsException([
        { field: 'toAccountId', rule: 'differentAccount', message: 'toAccountId must differ from fromAccountId' },
      ]);
    }
    const scope = this.access.scopeOf(context.principal);
    await this.accounts.findVisible(body.fromAccountId, scope);
    await this.accounts.findVisible(body.toAccountId, scope);
    return this.submit(TransferTask, { ...body }, body.fromAccountId, context, response);
  }

  @Post('expire')
  @AdminOnly()
  @ApiOperation({
    summary: 'Admin: submit tasks.credits.expire now (it also runs daily in TZ); asOf may not be in the future',
  })
  @TakesIdempotencyKey()
  async expire(
    @Body() body: ExpireArgs,
    @SubmitContext() context: SubmitContext,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const future = futureAsOf(body.asOf);
    if (future) throw fieldErrorsException([future]);
    return acceptedTask(response, await this.submission.submit(ExpireTask, { ...body }, context.options()));
  }

  /**
   * Submits under the caller's Idempotency-Key, else under a task key derived from the ledger
   * key, so a repeated request returns the first task (200) instead of queueing a twin that would
   * only replay its result; either key reused with another payload is a 422 naming it.
   */
  private async submit<Args extends CreditOperationArgs>(
    task: TaskDefinition<Args>,
    args: Args,
    accountId: string,
    context: SubmitContext,
    response: FastifyReply,
  ) {
    // The ledger key is validated with the payload; the task key derived from it is fixed-length.
    const ledgerKey = args.idempotencyKey ? { field: 'idempotencyKey', key: args.idempotencyKey } : undefined;
    const options = context.options(ledgerKey);
    if (!context.header && ledgerKey) options.idempotencyKey = ledgerTaskKey(task.name, accountId, ledgerKey.key);
    return acceptedTask(response, await this.submission.submit(task, args, options));
  }
}

/** The task key a ledger key stands for: one per task and account, fixed-length whatever the ledger key's length. */
function ledgerTaskKey(name: string, accountId: string, ledgerKey: string): string {
  return `credits:${createHash('sha256').update(`${name}\n${accountId}\n${ledgerKey}`).digest('hex')}`;
}

function assertOneExpiry(body: { expiresAt?: string; expiresOn?: string }, prefix: string): void {
  if (body.expiresAt && body.expiresOn) {
    throw fieldErrorsException([
      {
        field: `${prefix}expiresOn`,
        rule: 'oneExpiry',
        message: `${prefix}expiresAt and ${prefix}expiresOn are exclusive: give one`,
      },
    ]);
  }
}
