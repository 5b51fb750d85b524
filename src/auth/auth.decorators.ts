import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Principal } from './principal';

export const PUBLIC_ROUTE = 'auth:public';
export const ADMIN_ONLY = 'auth:admin';

/** The route needs no API key (health probes). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The route is for admin keys only; a client key gets 403. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** The {@link Principal} the guard attached to the request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);
