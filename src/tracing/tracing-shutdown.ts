import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { stopTracing } from './tracing-switch';

/** Exports the spans still buffered when the service stops (the batch processor holds them for seconds). */
@Injectable()
export class TracingShutdown implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
