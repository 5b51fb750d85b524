import { Logger } from '@nestjs/common';

export interface LoggerSpies {
  log: jest.SpyInstance;
  warn: jest.SpyInstance;
  error: jest.SpyInstance;
}

/**
 * For unit specs of classes that log: silences Nest's Logger in every test of the enclosing
 * `describe` and hands back its spies, so a test can assert what was logged. Mocks and real
 * timers are restored after each test.
 */
export function quietLogger(): LoggerSpies {
  const spies = {} as LoggerSpies;
  beforeEach(() => {
    spies.log = jest.spyOn(Logger.prototype, 'log').mockImplementation();
    spies.warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation();
    spies.error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });
  return spies;
}
