import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ApiKeyService } from '../auth/api-key.service';
import { API_KEY_ROLES, ApiKey, ApiKeyRole } from '../auth/entities/api-key.entity';
import { AppConfig } from '../config/app-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../database/embedded-postgres';
import { runMigrationsLocked } from '../database/migration-lock';
import { migrations } from '../database/migrations';
import { CliArgs, UsageError } from './cli-args';
import { CliOutput, table } from './cli-output';

/**
 * Opens the store directly: `migrate` runs before any instance exists, and `apikey` is how an
 * operator gets in when no key works yet. With no DATABASE_URL it uses the embedded PostgreSQL
 * (the running service's if it is up, else it starts it for the command).
 */
export async function withDatabase<T>(
  config: AppConfig,
  work: (dataSource: DataSource, url: string) => Promise<T>,
): Promise<T> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.env.DATABASE_URL;
  if (!url) {
    url = `postgres://postgres:postgres@127.0.0.1:${config.env.EMBEDDED_POSTGRES_PORT}/tasks`;
    if (!(await answers(url))) {
      embedded = await startEmbeddedPostgres(config.env.DATA_DIR, config.env.EMBEDDED_POSTGRES_PORT);
      url = embedded.url;
    }
  }
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: [ApiKey],
    migrations,
    migrationsTransactionMode: 'each',
    extra: { max: 2 },
  });
  await dataSource.initialize();
  try {
    return await work(dataSource, url);
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function runMigrate(config: AppConfig, out: CliOutput): Promise<void> {
  // Under the same advisory lock as a starting service: several `migrate` (one per pod's
  // initContainer) and starting replicas apply each migration once.
  const applied = await withDatabase(config, (ds, url) => runMigrationsLocked(ds, url));
  const names = applied.map((m) => m.name);
  out.result({ applied: names }, () =>
    names.length === 0
      ? 'The schema is up to date.'
      : `Applied ${names.length} migration(s):\n${names.map((n) => `  ${n}`).join('\n')}`,
  );
}

export async function runApiKey(args: CliArgs, config: AppConfig, out: CliOutput): Promise<void> {
  const action = args.command[1];
  await withDatabase(config, async (ds) => {
    const keys = new ApiKeyService(ds.getRepository(ApiKey));
    if (action === 'create') {
      if (!args.name) throw new UsageError('apikey create needs --name');
      const role = (args.role ?? 'client') as ApiKeyRole;
      if (!API_KEY_ROLES.includes(role)) throw new UsageError(`--role must be one of ${API_KEY_ROLES.join(', ')}`);
      const { key, secret } = await keys.create(args.name, role);
      return out.result(
        { id: key.id, name: key.name, role: key.role, secret },
        () =>
          `Created ${role} key "${key.name}" (${key.id}).\nThe key is shown only now; store it safely:\n  ${secret}`,
      );
    }
    if (action === 'list') {
      const list = (await keys.list()).map((k) => ({
        id: k.id,
        name: k.name,
        role: k.role,
        prefix: k.keyPrefix,
        createdAt: k.createdAt,
        revokedAt: k.revokedAt,
      }));
      return out.result(list, () =>
        table(
          ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'REVOKED'],
          list.map((k) => [
            k.id,
            k.name,
            k.role,
            `${k.prefix}…`,
            k.createdAt.toISOString(),
            k.revokedAt?.toISOString(),
          ]),
        ),
      );
    }
    if (action === 'revoke') {
      const target = args.command[2];
      if (!target) throw new UsageError('apikey revoke needs a key id or name');
      const revoked = await keys.revoke(target);
      if (revoked === 0) throw new Error(`No active key has the id or name ${target}`);
      // A running instance caches verified keys for a few seconds.
      return out.result(
        { revoked },
        () => `Revoked ${revoked} key(s); running instances stop accepting them within 5 seconds.`,
      );
    }
    throw new UsageError(`apikey takes create, list or revoke, not ${action ?? 'nothing'}`);
  });
}
