import { DataSource, EntityManager } from 'typeorm';

/**
 * For unit specs of code that takes an advisory lock in a transaction: a DataSource whose
 * `transaction` runs the work on one manager, and that manager answers `pg_try_advisory_xact_lock`
 * as told (`held`: another replica has it). Other queries answer no rows.
 */
export function lockingDataSource(held = false) {
  const query = jest.fn(async (sql: string) => (sql.includes('pg_try_advisory_xact_lock') ? [{ locked: !held }] : []));
  const manager = { query } as unknown as EntityManager;
  const dataSource = {
    transaction: jest.fn((work: (m: EntityManager) => Promise<unknown>) => work(manager)),
  } as unknown as DataSource;
  return { dataSource, manager, query };
}
