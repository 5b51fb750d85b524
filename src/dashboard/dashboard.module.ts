import { BullBoardModule } from '@bull-board/nestjs';
import { FastifyAdapter } from '@bull-board/fastify';
import { Module, NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyService } from '../auth/api-key.service';
import { AppConfig } from '../config/app-config';
import { dashboardAuth } from './dashboard-auth.middleware';
import { DashboardQueues } from './dashboard-queues.service';
import { DASHBOARD_PATH } from './dashboard.routes';

/** Bull Board at /admin/queues for admin keys: the successor of Flower. */
@Module({
  imports: [
    BullBoardModule.forRoot({
      route: DASHBOARD_PATH,
      adapter: FastifyAdapter,
      // Bull Board applies this as Nest middleware; the real check is the hook below.
      middleware: (_req: unknown, _res: unknown, next: () => void) => next(),
      boardOptions: { uiConfig: { boardTitle: 'Task service' } },
    }),
  ],
  providers: [DashboardQueues],
})
export class DashboardModule implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly apiKeys: ApiKeyService,
    private readonly config: AppConfig,
  ) {}

  /**
   * The sign-in check runs as a Fastify `onRequest` hook on every path under the board (Bull
   * Board's plugin has routes below its mount point that Nest middleware, which matches the
   * mount point alone on Fastify, would not guard).
   */
  configure(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const check = dashboardAuth(this.apiKeys, this.config.runsApi);
    fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?', 1)[0];
      if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return;
      let passed = false;
      await check(request.raw, reply.raw, () => void (passed = true));
      // Refused: the answer is written on the raw response already.
      if (!passed) reply.hijack();
    });
  }
}
