/**
 * Whether `error` means PostgreSQL could not be reached or dropped the connection (as opposed
 * to rejecting a statement): connection refused or reset, a connect or statement timeout,
 * the server shutting down or starting up. The cause chain and TypeORM's `driverError` are
 * followed, so wrapped errors are recognised too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as ErrorLike | undefined, depth = 0; e && depth < 5; depth++) {
    if (matches(e)) return true;
    e = (e.driverError ?? e.cause) as ErrorLike | undefined;
  }
  return false;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

// Socket errors, and PostgreSQL classes 08 (connection exception) and 57P (operator intervention).
const CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|terminating connection due to administrator command|the database system is (starting up|shutting down)|Query read timeout|canceling statement due to statement timeout/i;

function matches(e: ErrorLike): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  return typeof e.message === 'string' && MESSAGES.test(e.message);
}
