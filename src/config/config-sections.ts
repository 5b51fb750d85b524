import { ApiCallsEnvironment } from '../api-calls/api-calls.environment';
import { CeleryEnvironment } from '../celery/celery.environment';
import { CreditsEnvironment } from '../credits/credits.environment';
import { EmailEnvironment } from '../email/email.environment';
import { FileEnvironment } from '../file/file.environment';
import { HealthEnvironment } from '../health/health.environment';
import { MetricsEnvironment } from '../metrics/metrics.environment';
import { OpsEnvironment } from '../ops/ops.environment';
import { StatsEnvironment } from '../stats/stats.environment';
import { TaskRetryEnvironment } from '../tasks/run/task-retry.environment';

/**
 * Every domain's environment class. {@link AppConfig.fromEnv} validates all of them with the
 * core {@link Environment} before anything starts, so one error lists every bad variable of
 * every domain; a domain adding a section adds it here.
 */
export const CONFIG_SECTIONS: readonly (new () => object)[] = [
  HealthEnvironment,
  MetricsEnvironment,
  OpsEnvironment,
  FileEnvironment,
  EmailEnvironment,
  CreditsEnvironment,
  ApiCallsEnvironment,
  StatsEnvironment,
  TaskRetryEnvironment,
  CeleryEnvironment,
];
