import { BadRequestException, ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { Principal } from '../../auth/principal';
import { SubmitContext, TakesIdempotencyKey } from './submit-context';

const principal: Principal = { keyId: 'key-1', name: 'client', role: 'client' };

class Routes {
  @TakesIdempotencyKey()
  keyed(@SubmitContext() _context: SubmitContext) {}

  plain(@SubmitContext() _context: SubmitContext) {}
}

/** Runs the decorator as Nest does for `route`, on a request with `headers`. */
function contextOf(route: 'keyed' | 'plain', headers: Record<string, string | string[]> = {}): SubmitContext {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Routes, route);
  const { factory } = Object.values(args)[0] as { factory: (data: unknown, ctx: ExecutionContext) => SubmitContext };
  const request = { id: 'req-1', principal, headers };
  const ctx = {
    switchToHttp: () => ({ getRequest: () => request }),
    getHandler: () => Routes.prototype[route],
  } as unknown as ExecutionContext;
  return factory(undefined, ctx);
}

describe('SubmitContext', () => {
  it('gives the owner and request id, and submit options without a key when none was sent', () => {
    const context = contextOf('keyed');
    expect(context).toMatchObject({ principal, owner: 'key-1', requestId: 'req-1', header: undefined });
    expect(context.options()).toEqual({
      owner: 'key-1',
      requestId: 'req-1',
      idempotencyKey: undefined,
      callerKey: undefined,
    });
  });

  it('reads the Idempotency-Key header, trimmed, and prefers it to a key from the body', () => {
    const context = contextOf('keyed', { 'idempotency-key': '  order-7 ' });
    const header = { field: 'Idempotency-Key', key: 'order-7' };
    expect(context.header).toEqual(header);
    expect(context.options({ field: 'idempotencyKey', key: 'body' })).toMatchObject({
      idempotencyKey: 'order-7',
      callerKey: header,
    });
  });

  it("falls back to the body's key without a header", () => {
    const bodyKey = { field: 'options.idempotencyKey', key: 'b-1' };
    expect(contextOf('keyed', { 'idempotency-key': '  ' }).options(bodyKey)).toMatchObject({
      idempotencyKey: 'b-1',
      callerKey: bodyKey,
    });
  });

  it('refuses a header over 200 characters with a 400 naming it', () => {
    expect(() => contextOf('keyed', { 'idempotency-key': 'k'.repeat(201) })).toThrow(BadRequestException);
  });

  it('ignores the header on a route that does not take one', () => {
    const context = contextOf('plain', { 'idempotency-key': 'k'.repeat(201) });
    expect(context.header).toBeUndefined();
    expect(context.options().idempotencyKey).toBeUndefined();
  });
});
