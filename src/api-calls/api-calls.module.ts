import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiCallRecords } from './api-call-records.service';
import { ApiCallsController } from './api-calls.controller';
import { ApiCallsHandlers } from './api-calls.handlers';
import { ApiCallsService } from './api-calls.service';
import { ApiCall } from './entities/api-call.entity';
import { HostLimiter } from './host-limits/host-limiter.service';
import { HostPermits } from './host-limits/host-permits.service';

/** `tasks.api.call` and `tasks.api.webhook` on the `api_calls` queue, and their REST endpoints. */
@Module({
  imports: [TypeOrmModule.forFeature([ApiCall])],
  controllers: [ApiCallsController],
  providers: [ApiCallRecords, ApiCallsService, ApiCallsHandlers, HostPermits, HostLimiter],
})
export class ApiCallsModule {}
