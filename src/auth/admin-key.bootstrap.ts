import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeyService } from './api-key.service';

/**
 * Makes sure somebody can call the API: `ADMIN_API_KEY` becomes an admin key, and a first
 * start with no key at all creates one and prints it once.
 */
@Injectable()
export class AdminKeyBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminKeyBootstrap.name);

  constructor(
    private readonly config: AppConfig,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.runsApi) return;
    if (this.config.env.ADMIN_API_KEY) {
      await this.apiKeys.ensure('admin (ADMIN_API_KEY)', 'admin', this.config.env.ADMIN_API_KEY);
      return;
    }
    if ((await this.apiKeys.countActive()) > 0) return;
    const { secret } = await this.apiKeys.create('admin (first start)', 'admin');
    this.logger.warn('No API key existed, so an admin key was created; it is printed once on the terminal (stderr)');
    // The secret goes to the terminal only, as plain text: never into a log line that ships to log storage.
    process.stderr.write(
      `\n  Admin API key (shown once): ${secret}\n  Try: curl -H "Authorization: Bearer <that key>" http://localhost:${this.config.env.PORT}/tasks/registered\n\n`,
    );
  }
}
