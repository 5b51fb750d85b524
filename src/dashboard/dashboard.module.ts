import { BullBoardModule } from '@bull-board/nestjs';
import { ExpressAdapter } from '@bull-board/express';
import { Module } from '@nestjs/common';
import { ApiKeyService } from '../auth/api-key.service';
import { AppConfig } from '../config/app-config';
import { dashboardAuth } from './dashboard-auth.middleware';
import { DashboardQueues } from './dashboard-queues.service';
import { DASHBOARD_PATH } from './dashboard.routes';

/** Bull Board at /admin/queues for admin keys: the successor of Flower. */
@Module({
  imports: [
    BullBoardModule.forRootAsync({
      inject: [ApiKeyService, AppConfig],
      // The auth middleware is passed to Bull Board so it runs before the board's router, always.
      useFactory: (apiKeys: ApiKeyService, config: AppConfig) => ({
        route: DASHBOARD_PATH,
        adapter: ExpressAdapter,
        middleware: dashboardAuth(apiKeys, config.runsApi),
        boardOptions: { uiConfig: { boardTitle: 'Task service' } },
      }),
    }),
  ],
  providers: [DashboardQueues],
})
export class DashboardModule {}
