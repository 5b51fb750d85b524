import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyService } from './api-key.service';
import { ADMIN_ONLY, PUBLIC_ROUTE } from './auth.decorators';

/**
 * Every route needs an API key unless marked {@link Public}: `Authorization: Bearer <key>`,
 * or HTTP Basic with the key as password so a browser can sign in to the dashboard.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest();
    const secret = extractApiKey(request.headers.authorization);
    if (!secret) throw new UnauthorizedException('An API key is required: send Authorization: Bearer <key>');
    const principal = await this.apiKeys.verify(secret);
    if (!principal) throw new UnauthorizedException('The API key is unknown or revoked');
    request.principal = principal;
    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) && principal.role !== 'admin') {
      throw new ForbiddenException('This route needs an admin API key');
    }
    return true;
  }
}

export function extractApiKey(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return null;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}
