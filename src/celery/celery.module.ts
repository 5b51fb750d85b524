import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CeleryEnvironment } from './celery.environment';
import { CeleryConnections } from './celery-connections';
import { CeleryIngress } from './celery-ingress.service';
import { CeleryInspector } from './celery-inspector';
import { CeleryPidbox } from './celery-pidbox.service';
import { CeleryResultMirror } from './celery-result-mirror.service';
import { CeleryResultRepair } from './celery-result-repair.service';
import { CeleryRevoker } from './celery-revoker';
import { CeleryTracker } from './celery-tracker';

/**
 * The Celery ingress (`docs/migrating-from-celery.md`): in worker-role processes, when
 * `CELERY_BROKER_URL` is set, unchanged Celery callers submit, follow and revoke our tasks
 * through the old broker, result backend and pidbox. Empty otherwise.
 */
@Module({})
export class CeleryModule {
  static forRoot(config: AppConfig): DynamicModule {
    const enabled = config.runsWorkers && Boolean(config.section(CeleryEnvironment).CELERY_BROKER_URL);
    return {
      module: CeleryModule,
      providers: enabled
        ? [
            CeleryConnections,
            CeleryTracker,
            CeleryResultMirror,
            CeleryResultRepair,
            CeleryRevoker,
            CeleryInspector,
            CeleryIngress,
            CeleryPidbox,
          ]
        : [],
    };
  }
}
