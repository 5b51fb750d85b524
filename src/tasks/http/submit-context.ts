import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { Principal } from '../../auth/principal';
import { CallerIdempotencyKey, callerIdempotencyKey } from '../../common/idempotency-key';
import { SubmitOptions } from '../submit/task-submission.service';

const TAKES_IDEMPOTENCY_KEY = 'submit:takes-idempotency-key';

/** What every route that submits a task needs from its request: who asks, which request, under which key. */
export interface SubmitContext {
  principal: Principal;
  /** The API key id the task will belong to. */
  owner: string;
  /** The request id (`X-Request-Id`), recorded with the task. */
  requestId: string | undefined;
  /** The `Idempotency-Key` header; undefined on a route without {@link TakesIdempotencyKey}. */
  header: CallerIdempotencyKey | undefined;
  /** The caller's key: the header, else `bodyKey` (a key the body carries, e.g. `options.idempotencyKey`). */
  idempotencyKey(bodyKey?: CallerIdempotencyKey): CallerIdempotencyKey | undefined;
  /** Submit options: owner, request id and the caller's key ({@link idempotencyKey}), if any. */
  options(bodyKey?: CallerIdempotencyKey): SubmitOptions;
}

/**
 * The route takes an `Idempotency-Key` header: documents it, and has {@link SubmitContext} read
 * it. Routes without it ignore the header, as they always did.
 */
export const TakesIdempotencyKey = () =>
  applyDecorators(ApiHeader({ name: 'Idempotency-Key', required: false }), SetMetadata(TAKES_IDEMPOTENCY_KEY, true));

/**
 * The {@link SubmitContext} of the request. The header is read while the parameters are, so a key
 * longer than 200 characters is a 400 before the handler runs, whatever the body holds.
 */
export const SubmitContext = createParamDecorator((_: unknown, ctx: ExecutionContext): SubmitContext => {
  const request = ctx.switchToHttp().getRequest<{
    id?: string;
    principal: Principal;
    headers: Record<string, string | string[] | undefined>;
  }>();
  const takesKey = Reflect.getMetadata(TAKES_IDEMPOTENCY_KEY, ctx.getHandler()) === true;
  const raw = request.headers['idempotency-key'];
  return submitContext(
    request.principal,
    request.id,
    takesKey ? callerIdempotencyKey(Array.isArray(raw) ? raw[0] : raw) : undefined,
  );
});

export function submitContext(
  principal: Principal,
  requestId: string | undefined,
  header: CallerIdempotencyKey | undefined,
): SubmitContext {
  const idempotencyKey = (bodyKey?: CallerIdempotencyKey) => header ?? bodyKey;
  return {
    principal,
    owner: principal.keyId,
    requestId,
    header,
    idempotencyKey,
    options(bodyKey) {
      const callerKey = idempotencyKey(bodyKey);
      return { owner: principal.keyId, requestId, idempotencyKey: callerKey?.key, callerKey };
    },
  };
}
