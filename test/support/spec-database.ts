import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { migrations } from '../../src/database/migrations';

/**
 * A throw-away PostgreSQL database for unit specs whose logic is SQL: a uniquely named database
 * on the machine's PostgreSQL (`TEST_POSTGRES_URL`, default postgres@127.0.0.1:5432, as the e2e
 * setup uses), the project's own migrations, and a TypeORM DataSource on it. Dropped afterwards,
 * so specs running in parallel never see each other's rows.
 */
export interface SpecDatabase {
  readonly dataSource: DataSource;
  readonly url: string;
  repository<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T>;
  /**
   * Deletes every row of `tables`, in the order given (list referencing tables first), so each
   * spec starts from a known state. Triggers and foreign keys are off meanwhile (the ledger's
   * append-only guard would refuse); a DELETE is far quicker than TRUNCATE on a small table.
   */
  empty(...tables: string[]): Promise<void>;
  /** Closes the DataSource and drops the database. */
  drop(): Promise<void>;
}

const adminUrl = () => process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`This spec needs PostgreSQL at ${adminUrl()} (set TEST_POSTGRES_URL): ${error.message}`, {
      cause: error,
    });
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database, runs every migration and connects with `entities` registered. */
export async function createSpecDatabase(entities: EntityTarget<ObjectLiteral>[] = []): Promise<SpecDatabase> {
  const name = `tasks_spec_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataSource = new DataSource({
    type: 'postgres',
    url: url.toString(),
    entities: entities as (string | (new () => unknown))[],
    migrations,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    // Nothing here has to survive a crash: commits need not wait for the disk.
    extra: { max: 10, options: '-c synchronous_commit=off' },
  });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw error;
  }
  return {
    dataSource,
    url: url.toString(),
    repository: (entity) => dataSource.getRepository(entity),
    empty: (...tables) =>
      dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL session_replication_role = replica`);
        for (const table of tables) await manager.query(`DELETE FROM ${table}`);
      }),
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Jest wiring: a database for the whole spec file (created in `beforeAll`, dropped in
 * `afterAll`). Read `db.current` inside hooks and tests, never at module level.
 */
export function useSpecDatabase(entities: EntityTarget<ObjectLiteral>[] = []): { readonly current: SpecDatabase } {
  let database: SpecDatabase | undefined;
  beforeAll(async () => {
    database = await createSpecDatabase(entities);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get current(): SpecDatabase {
      if (!database) throw new Error('The spec database is ready only inside hooks and tests');
      return database;
    },
  };
}
