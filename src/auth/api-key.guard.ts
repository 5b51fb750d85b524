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
    const header: string | undefined = request.headers.authorization;
    const secret = extractApiKey(header);
    if (!secret && header) {
      throw new UnauthorizedException(
        'The Authorization header is malformed: send "Bearer <key>" or "Basic <base64 of user:key>"',
      );
    }
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

// Longer than any key this service issues, short of Node's 16 kB header limit.
const MAX_AUTHORIZATION_LENGTH = 4096;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The API key of an `Authorization` header: `Bearer <key>`, or `Basic <base64 of user:key>`.
 * Anything else is null: another scheme, base64 that is not strictly base64, credentials
 * that are not UTF-8 or hold control characters, a header longer than any real one.
 */
export function extractApiKey(header: string | undefined): string | null {
  if (!header || header.length > MAX_AUTHORIZATION_LENGTH) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return null;
  let secret: string;
  if (scheme.toLowerCase() === 'bearer') secret = value;
  else if (scheme.toLowerCase() === 'basic') {
    if (!BASE64.test(value)) return null;
    let decoded: string;
    try {
      decoded = UTF8.decode(Buffer.from(value, 'base64'));
    } catch {
      return null;
    }
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    secret = decoded.slice(colon + 1);
  } else return null;
  return secret && !/[\u0000-\u001f\u007f]/.test(secret) ? secret : null;
}
