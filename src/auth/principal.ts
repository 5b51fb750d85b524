import { ApiKeyRole } from './entities/api-key.entity';

/** Who is calling: the API key behind the request. */
export interface Principal {
  keyId: string;
  name: string;
  role: ApiKeyRole;
}

export function isAdmin(principal: Principal): boolean {
  return principal.role === 'admin';
}
