import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through, counting them and hashing them with SHA-256 on the way. */
export class HashingCounter extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Limits throughput to `bytesPerSecond` (EXPORT_READ_BYTES_PER_SECOND): an export of many
 * gigabytes can be kept from taking all of a shared disk's bandwidth. 0 = unlimited.
 */
export class Throttle extends Transform {
  private readonly startedAt = Date.now();
  private bytes = 0;

  constructor(private readonly bytesPerSecond: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const dueAt = this.startedAt + (this.bytes / this.bytesPerSecond) * 1000;
    const wait = dueAt - Date.now();
    if (wait <= 0) return callback(null, chunk);
    setTimeout(() => callback(null, chunk), wait);
  }
}
