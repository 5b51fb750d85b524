import { validatePayload } from '../common/field-errors';
import { MAX_AMOUNT, MAX_BALANCE, toPoints } from './credit-limits';
import { ConsumeArgs, GrantArgs, RefundArgs, TransferArgs } from './credits.tasks';

const ACCOUNT = '3f1c2b8e-9d4a-4c1e-8f2a-1b2c3d4e5f60';

describe('credits payloads', () => {
  it.each([1, 42, MAX_AMOUNT])('accepts the amount %p', (amount) => {
    expect(validatePayload(ConsumeArgs, { accountId: ACCOUNT, amount }).errors).toEqual([]);
  });

  it.each([0, -1, 1.5, MAX_AMOUNT + 1, 2 ** 53, Number.MAX_VALUE, '10', 'abc', null, true, [1], { n: 1 }])(
    'refuses the amount %p, naming the field',
    (amount) => {
      const { errors } = validatePayload(ConsumeArgs, { accountId: ACCOUNT, amount });
      expect(errors.map((e) => e.field)).toContain('args.amount');
      expect(errors.find((e) => e.field === 'args.amount')!.message).toContain(
        'positive integer of at most 1,000,000,000',
      );
    },
  );

  it('requires an amount and a UUID account, one error each', () => {
    const { errors } = validatePayload(ConsumeArgs, { accountId: 'nope' });
    expect(errors.map((e) => [e.field, e.rule]).sort()).toEqual([
      ['args.accountId', 'isUuid'],
      ['args.amount', 'required'],
    ]);
  });

  it('refuses unknown fields and over-long keys', () => {
    const { errors } = validatePayload(ConsumeArgs, {
      accountId: ACCOUNT,
      amount: 1,
      extra: 1,
      idempotencyKey: 'k'.repeat(201),
    });
    expect(errors.map((e) => e.field).sort()).toEqual(['args.extra', 'args.idempotencyKey']);
  });

  it("reserves the sys: prefix for the service's own keys", () => {
    expect(
      validatePayload(ConsumeArgs, { accountId: ACCOUNT, amount: 1, idempotencyKey: 'sys:task:x' }).errors.map(
        (e) => e.field,
      ),
    ).toEqual(['args.idempotencyKey']);
    expect(
      validatePayload(ConsumeArgs, { accountId: ACCOUNT, amount: 1, idempotencyKey: 'my-sys:key' }).errors,
    ).toEqual([]);
  });

  it('checks grant expiry dates', () => {
    expect(validatePayload(GrantArgs, { accountId: ACCOUNT, amount: 1, expiresOn: '2026-03-01' }).errors).toEqual([]);
    expect(
      validatePayload(GrantArgs, { accountId: ACCOUNT, amount: 1, expiresAt: '2026-03-01T16:00:00Z' }).errors,
    ).toEqual([]);
    expect(
      validatePayload(GrantArgs, { accountId: ACCOUNT, amount: 1, expiresOn: '2026-02-29' }).errors.map((e) => e.field),
    ).toEqual(['args.expiresOn']);
    expect(
      validatePayload(GrantArgs, { accountId: ACCOUNT, amount: 1, expiresAt: 'tomorrow' }).errors.map((e) => e.field),
    ).toEqual(['args.expiresAt']);
  });

  it('checks refund and transfer fields', () => {
    expect(validatePayload(RefundArgs, { accountId: ACCOUNT, transactionId: '17' }).errors).toEqual([]);
    expect(validatePayload(RefundArgs, { accountId: ACCOUNT, transactionId: 17 }).errors.map((e) => e.field)).toContain(
      'args.transactionId',
    );
    expect(
      validatePayload(RefundArgs, { accountId: ACCOUNT, transactionId: '0' }).errors.map((e) => e.field),
    ).toContain('args.transactionId');
    expect(
      validatePayload(TransferArgs, { fromAccountId: ACCOUNT, toAccountId: 'x', amount: 1 }).errors.map((e) => e.field),
    ).toEqual(['args.toAccountId']);
  });
});

describe('credit limits', () => {
  it('keeps every reachable value exact in a JavaScript number', () => {
    expect(Number.isSafeInteger(MAX_BALANCE + MAX_AMOUNT)).toBe(true);
    expect(toPoints('1000000000000000')).toBe(MAX_BALANCE);
    expect(toPoints('-42')).toBe(-42);
    expect(toPoints(null)).toBe(0);
    expect(() => toPoints('9007199254740993')).toThrow('not a safe integer');
  });
});
