import { Logger } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { extractApiKey } from '../auth/api-key.guard';
import { ApiKeyService } from '../auth/api-key.service';
import { DASHBOARD_REALM } from './dashboard.routes';

/**
 * Guards Bull Board, whose routes are Express middleware the global Nest guard never sees.
 * HTTP Basic (any user name, an admin API key as password) lets a browser sign in with its own
 * prompt and resend the credentials on every API call of the board; Bearer works for scripts.
 */
export function dashboardAuth(apiKeys: ApiKeyService, servesApi: boolean) {
  const logger = new Logger('Dashboard');
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (!servesApi) {
      // Worker pods listen for probes and scrapes only; the board belongs to the api role.
      res.status(404).json({ statusCode: 404, message: 'The dashboard is served by the api role' });
      return;
    }
    try {
      const secret = extractApiKey(req.headers.authorization);
      const principal = secret ? await apiKeys.verify(secret) : null;
      if (!principal) {
        res.setHeader('WWW-Authenticate', `Basic realm="${DASHBOARD_REALM}", charset="UTF-8"`);
        res
          .status(401)
          .json({ statusCode: 401, message: 'Sign in with an admin API key as the password (any user name)' });
        return;
      }
      if (principal.role !== 'admin') {
        res.status(403).json({ statusCode: 403, message: 'The dashboard needs an admin API key' });
        return;
      }
      next();
    } catch (error) {
      logger.error(`Dashboard sign-in check failed: ${error.message}`);
      res.status(503).json({ statusCode: 503, message: 'Cannot check credentials right now' });
    }
  };
}
