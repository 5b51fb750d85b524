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
        extra: { max: config.env.DATABASE_POOL_SIZE },
      }),
    }),
  ],
})
export class DatabaseModule {}
