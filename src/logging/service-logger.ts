import { Logger as NestLogger } from '@nestjs/common';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { loggerParams } from './logging.module';

/**
 * Nest's own start-up chatter: a line per module initialised and per route mapped (~80 lines
 * on every start). Useful when debugging the wiring, noise otherwise: logged at debug level.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
]);

/**
 * The process's one logger, through pino like every request and task line. It is installed
 * before anything logs (the embedded database, the transport, Nest's factory), so even the
 * first line a start prints is JSON (or pretty with `LOG_FORMAT=pretty`), never Nest's
 * coloured console line.
 */
export class ServiceLogger extends PinoNestLogger {
  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) return super.debug(message, ...params);
    super.log(message, ...params);
  }

  /** Makes this the logger of every `new Logger(...)` in the process and returns it for the app. */
  static install(config: AppConfig): ServiceLogger {
    const params = loggerParams(config);
    const logger = new ServiceLogger(new PinoLogger(params), params);
    NestLogger.overrideLogger(logger);
    return logger;
  }
}
