import { DynamicModule, Module } from '@nestjs/common';
import { ApiCallsModule } from './api-calls/api-calls.module';
import { AuthModule } from './auth/auth.module';
import { CeleryModule } from './celery/celery.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CreditsModule } from './credits/credits.module';
import { DatabaseModule } from './database/database.module';
import { EmailModule } from './email/email.module';
import { FileModule } from './file/file.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { OpsModule } from './ops/ops.module';
import { StatsModule } from './stats/stats.module';
import { QueueConnection } from './tasks/queues/queue-transport';
import { TasksModule } from './tasks/tasks.module';

/** Wires config, database, the task platform and every domain module for one process. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, connection: QueueConnection): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule,
        AuthModule,
        TasksModule.forRoot(config, connection),
        HealthModule,
        OpsModule,
        MetricsModule,
        // Bull Board (its UI, views and static files) only where the API is served: loaded only there.
        ...(config.runsApi ? [dashboardModule()] : []),
        FileModule,
        EmailModule,
        CreditsModule,
        ApiCallsModule,
        StatsModule,
        // Empty unless a worker-role process has CELERY_BROKER_URL.
        CeleryModule.forRoot(config),
      ],
    };
  }
}

function dashboardModule(): DynamicModule['module'] {
  return (require('./dashboard/dashboard.module') as typeof import('./dashboard/dashboard.module')).DashboardModule;
}
