import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';

// PostgreSQL codes that mean the input was wrong, not the server.
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  '22P02': { status: HttpStatus.BAD_REQUEST, message: 'A value has the wrong format' },
  '22003': { status: HttpStatus.BAD_REQUEST, message: 'A number is out of range' },
  '22001': { status: HttpStatus.BAD_REQUEST, message: 'A value is too long' },
  '23505': { status: HttpStatus.CONFLICT, message: 'A record with this key already exists' },
};

/** Turns database errors caused by input into 4xx; the rest stay 500 and are logged. */
@Catch(QueryFailedError)
export class DatabaseErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(DatabaseErrorFilter.name);

  catch(error: QueryFailedError & { code?: string }, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
    if (known) {
      response.status(known.status).json({ statusCode: known.status, message: known.message });
      return;
    }
    this.logger.error(`Database error: ${error.message}`, error.stack);
    response.status(500).json({ statusCode: 500, message: 'Internal server error' });
  }
}
