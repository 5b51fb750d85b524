import { ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './database-unavailable';

// PostgreSQL codes that mean the input was wrong, not the server.
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  '22P02': { status: HttpStatus.BAD_REQUEST, message: 'A value has the wrong format' },
  '22003': { status: HttpStatus.BAD_REQUEST, message: 'A number is out of range' },
  '22001': { status: HttpStatus.BAD_REQUEST, message: 'A value is too long' },
  '23505': { status: HttpStatus.CONFLICT, message: 'A record with this key already exists' },
};

/** Seconds a client should wait before trying again while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Database errors in HTTP terms: input the database rejected is a 4xx; a database that cannot
 * be reached (refused, reset, timed out, shutting down) is a 503 with `Retry-After` that names
 * the database, never a 500. Everything else goes to Nest's own handling.
 */
@Catch()
export class DatabaseErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(DatabaseErrorFilter.name);

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(error, host);
    const response = host.switchToHttp().getResponse();
    if (isDatabaseUnavailable(error)) {
      if (this.applicationRef?.isHeadersSent(response)) return void this.applicationRef.end(response);
      this.applicationRef?.setHeader(response, 'Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      this.applicationRef?.reply(
        response,
        {
          statusCode: 503,
          error: 'Service Unavailable',
          unavailable: 'database',
          message: 'The database is unreachable; nothing was recorded. Try again shortly.',
        },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
      return;
    }
    if (!(error instanceof QueryFailedError)) return super.catch(error, host);
    const code = (error as QueryFailedError & { code?: string }).code;
    const known = code ? CLIENT_ERRORS[code] : undefined;
    if (known) {
      this.applicationRef?.reply(response, { statusCode: known.status, message: known.message }, known.status);
      return;
    }
    this.logger.error(`Database error: ${error.message}`, error.stack);
    this.applicationRef?.reply(response, { statusCode: 500, message: 'Internal server error' }, 500);
  }
}
