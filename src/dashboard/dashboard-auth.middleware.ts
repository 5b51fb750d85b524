import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extractApiKey } from '../auth/api-key.guard';
import { ApiKeyService } from '../auth/api-key.service';
import { DASHBOARD_REALM } from './dashboard.routes';

/**
 * Guards Bull Board, whose routes are a Fastify plugin the global Nest guard never sees (this runs
 * as Nest middleware, on the raw request, before the plugin's routes).
 * HTTP Basic (any user name, an admin API key as password) lets a browser sign in with its own
 * prompt and resend the credentials on every API call of the board; Bearer works for scripts.
 */
export function dashboardAuth(apiKeys: ApiKeyService, servesApi: boolean) {
  const logger = new Logger('Dashboard');
  return async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    if (!servesApi) {
      // Worker pods listen for probes and scrapes only; the board belongs to the api role.
      sendJson(res, 404, { statusCode: 404, message: 'The dashboard is served by the api role' });
      return;
    }
    try {
      const secret = extractApiKey(req.headers.authorization);
      const principal = secret ? await apiKeys.verify(secret) : null;
      if (!principal) {
        res.setHeader('WWW-Authenticate', `Basic realm="${DASHBOARD_REALM}", charset="UTF-8"`);
        sendJson(res, 401, {
          statusCode: 401,
          message: 'Sign in with an admin API key as the password (any user name)',
        });
        return;
      }
      if (principal.role !== 'admin') {
        sendJson(res, 403, { statusCode: 403, message: 'The dashboard needs an admin API key' });
        return;
      }
      next();
    } catch (error) {
      logger.error(`Dashboard sign-in check failed: ${error.message}`);
      sendJson(res, 503, { statusCode: 503, message: 'Cannot check credentials right now' });
    }
  };
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
