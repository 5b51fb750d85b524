import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { runMigrationsLocked } from './migration-lock';
import { migrations } from './migrations';

/**
 * TypeORM on PostgreSQL; the schema comes from migrations, never `synchronize`. Every process
 * runs the pending ones at start, under an advisory lock (TypeORM's own `migrationsRun` takes
 * none), so replicas starting together apply each migration once; in Kubernetes an
 * initContainer running `cli migrate` has usually done it already and this finds nothing to do.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        type: 'postgres',
        url: config.databaseUrl,
        autoLoadEntities: true,
        synchronize: false,
        migrations,
        migrationsRun: false,
        migrationsTransactionMode: 'each',
        // A database that does not answer fails a request in 1.5 s (a 503), instead of hanging it.
        extra: { max: config.env.DATABASE_POOL_SIZE, connectionTimeoutMillis: 1500 },
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        try {
          const logger = new Logger('Migrations');
          await runMigrationsLocked(dataSource, (options as { url: string }).url, (m) => logger.log(m));
        } catch (error) {
          await dataSource.destroy();
          throw error;
        }
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
