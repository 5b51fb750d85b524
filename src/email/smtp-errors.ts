/** How a failed send is handled: `permanent` fails at once, `transient` retries. */
export interface SendFailure {
  permanent: boolean;
  /** The server or network gave out entirely (stop sending the rest of a batch for now). */
  connection: boolean;
  code?: string;
  responseCode?: number;
  /** The server's reply when there was one, else the error message. */
  message: string;
}

const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPROTOCOL',
  'EMAXLIMIT',
]);
/** Errors of our own message or configuration: retrying cannot help. */
const PERMANENT_CODES = new Set(['ENOAUTH', 'ECONFIG', 'EREQUIRETLS', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS']);

/**
 * Classifies a nodemailer error. SMTP 5xx replies are permanent (the server said no and will
 * say so again); 4xx replies, timeouts and connection failures are transient. An envelope
 * error without a reply code (no valid recipient) is permanent.
 */
export function classifySendError(error: {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}): SendFailure {
  const code = error.code;
  const responseCode = typeof error.responseCode === 'number' ? error.responseCode : undefined;
  const message = (error.response || error.message || String(error)).trim();
  const base = { code, responseCode, message };
  if (responseCode !== undefined && responseCode >= 500) return { ...base, permanent: true, connection: false };
  if (responseCode !== undefined && responseCode >= 400)
    return { ...base, permanent: false, connection: responseCode === 421 };
  if (code && PERMANENT_CODES.has(code)) return { ...base, permanent: true, connection: false };
  if (code === 'EENVELOPE') return { ...base, permanent: true, connection: false };
  if (code && CONNECTION_CODES.has(code)) return { ...base, permanent: false, connection: true };
  // The mailer's own send timeout carries no code.
  if (!code && /timed out/i.test(message)) return { ...base, permanent: false, connection: true };
  return { ...base, permanent: false, connection: false };
}

/** One line for records and task errors: `SMTP 550: <reply>` or `ECONNECTION: <message>`. */
export function describeFailure(failure: SendFailure): string {
  const prefix = failure.responseCode ? `SMTP ${failure.responseCode}` : (failure.code ?? 'Error');
  return `${prefix}: ${failure.message}`.slice(0, 2000);
}
