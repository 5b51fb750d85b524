import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { migrations } from './migrations';

/** TypeORM on PostgreSQL; the schema comes from migrations run at start, never `synchronize`. */
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
        migrationsRun: true,
        // Migrations of concurrently starting replicas serialise on an advisory lock.
        migrationsTransactionMode: 'each',
        // A database that does not answer fails a request in 1.5 s (a 503), instead of hanging it.
        extra: { max: config.env.DATABASE_POOL_SIZE, connectionTimeoutMillis: 1500 },
      }),
    }),
  ],
})
export class DatabaseModule {}
