import { apiCallsMigrations } from '../api-calls/migrations';
import { authMigrations } from '../auth/migrations';
import { creditsMigrations } from '../credits/migrations';
import { emailMigrations } from '../email/migrations';
import { fileMigrations } from '../file/migrations';
import { opsMigrations } from '../ops/migrations';
import { statsMigrations } from '../stats/migrations';
import { tasksMigrations } from '../tasks/records/migrations';

/**
 * Every schema migration, in order. Each domain owns its list; explicit imports (rather than
 * a glob) work the same under the compiled build, the CLI and Jest.
 */
export const migrations = [
  ...tasksMigrations,
  ...authMigrations,
  ...creditsMigrations,
  ...emailMigrations,
  ...fileMigrations,
  ...opsMigrations,
  ...apiCallsMigrations,
  ...statsMigrations,
];
