import { Body, Controller, Get, HttpStatus, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { AdminOnly, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { fieldErrorsException } from '../common/field-errors';
import { CallerIdempotencyKey, IdempotencyKey } from '../common/idempotency-key';
import { TaskSubmissionService } from '../tasks/submit/task-submission.service';
import { toTaskView } from '../tasks/records/task-view';
import { CreditAccess } from './credit-access.service';
import { futureAsOf } from './credit-as-of';
import { CreditAccountsService, toAccountView, toTransactionView } from './credit-accounts.service';
import {
  ConsumeTask,
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

type RequestWithId = { id?: string };

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
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async grant(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: GrantDto,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() header: CallerIdempotencyKey | undefined,
    @Req() req: RequestWithId,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    assertOneExpiry(body, '');
    await this.accounts.findVisible(id, this.access.scopeOf(principal));
    return this.submit(GrantTask.name, { ...body, accountId: id }, id, principal, header, req, res);
  }

  @Post('accounts/:id/consume')
  @ApiOperation({ summary: 'Submit tasks.credits.consume (202 with the task)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async consume(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ConsumeDto,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() header: CallerIdempotencyKey | undefined,
    @Req() req: RequestWithId,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    await this.accounts.findVisible(id, this.access.scopeOf(principal));
    return this.submit(ConsumeTask.name, { ...body, accountId: id }, id, principal, header, req, res);
  }

  @Post('accounts/:id/refund')
  @ApiOperation({ summary: 'Submit tasks.credits.refund of an earlier consume (202 with the task)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async refund(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: RefundDto,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() header: CallerIdempotencyKey | undefined,
    @Req() req: RequestWithId,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    await this.accounts.findVisible(id, this.access.scopeOf(principal));
    return this.submit(RefundTask.name, { ...body, accountId: id }, id, principal, header, req, res);
  }

  @Post('transfers')
  @ApiOperation({ summary: 'Submit tasks.credits.transfer between two of your accounts (202 with the task)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async transfer(
    @Body() body: TransferArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() header: CallerIdempotencyKey | undefined,
    @Req() req: RequestWithId,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    if (body.fromAccountId === body.toAccountId) {
      throw fieldErrorsException([
        { field: 'toAccountId', rule: 'differentAccount', message: 'toAccountId must differ from fromAccountId' },
      ]);
    }
    const scope = this.access.scopeOf(principal);
    await this.accounts.findVisible(body.fromAccountId, scope);
    await this.accounts.findVisible(body.toAccountId, scope);
    return this.submit(TransferTask.name, { ...body }, body.fromAccountId, principal, header, req, res);
  }

  @Post('expire')
  @AdminOnly()
  @ApiOperation({
    summary: 'Admin: submit tasks.credits.expire now (it also runs daily in TZ); asOf may not be in the future',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async expire(
    @Body() body: ExpireArgs,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() header: CallerIdempotencyKey | undefined,
    @Req() req: RequestWithId,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const future = futureAsOf(body.asOf);
    if (future) throw fieldErrorsException([future]);
    const { run, created } = await this.submission.submitByName({
      name: ExpireTask.name,
      args: { ...body },
      owner: principal.keyId,
      idempotencyKey: header?.key,
      callerKey: header,
      requestId: req.id,
    });
    res.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', `/tasks/${run.id}`);
    return toTaskView(run);
  }

  /**
   * Submits under the caller's Idempotency-Key, else under a task key derived from the ledger
   * key, so a repeated request returns the first task (200) instead of queueing a twin that would
   * only replay its result; either key reused with another payload is a 422 naming it.
   */
  private async submit(
    name: string,
    args: Record<string, unknown> & { idempotencyKey?: string },
    accountId: string,
    principal: Principal,
    header: CallerIdempotencyKey | undefined,
    req: RequestWithId,
    res: FastifyReply,
  ) {
    // The ledger key is validated with the payload; the task key derived from it is fixed-length.
    const ledgerKey = args.idempotencyKey ? { field: 'idempotencyKey', key: args.idempotencyKey } : undefined;
    const callerKey = header ?? ledgerKey;
    const idempotencyKey =
      header?.key ??
      (ledgerKey && `credits:${createHash('sha256').update(`${name}\n${accountId}\n${ledgerKey.key}`).digest('hex')}`);
    const { run, created } = await this.submission.submitByName({
      name,
      args,
      owner: principal.keyId,
      requestId: req.id,
      idempotencyKey,
      callerKey,
    });
    res.status(created ? HttpStatus.ACCEPTED : HttpStatus.OK).header('Location', `/tasks/${run.id}`);
    return toTaskView(run);
  }
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
