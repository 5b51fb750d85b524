import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HttpDrain } from './http-drain.service';
import { ServiceHealthIndicators } from './health.indicators';
import { RedisPolicyCheck } from './redis-policy.check';
import { ShutdownState } from './shutdown-state.service';

/** Liveness and readiness probes, the shutdown hand-off and start-up checks of the transport. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', gracefulShutdownTimeoutMs: 0 })],
  controllers: [HealthController],
  providers: [ShutdownState, ServiceHealthIndicators, RedisPolicyCheck, HttpDrain],
  exports: [ShutdownState, HttpDrain],
})
export class HealthModule {}
