import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../../config/app-config';

type Handler = (payload: string) => void;

/**
 * PostgreSQL LISTEN/NOTIFY for the process: one dedicated connection, opened on the first
 * subscription and re-opened if it drops. It carries cancels to workers and task completions
 * to waiting HTTP callers on either queue transport.
 */
@Injectable()
export class PgNotifications implements OnApplicationShutdown {
  private readonly logger = new Logger(PgNotifications.name);
  private readonly handlers = new Map<string, Set<Handler>>();
  private client: Client | null = null;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly config: AppConfig) {}

  /** Subscribes to `channel`; resolves once the LISTEN is in place. */
  async subscribe(channel: string, handler: Handler): Promise<void> {
    const isNew = !this.handlers.has(channel);
    if (isNew) this.handlers.set(channel, new Set());
    this.handlers.get(channel)!.add(handler);
    await this.connect();
    if (isNew && this.client) await this.client.query(`LISTEN ${channel}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', ({ channel, payload }) => this.handlers.get(channel)?.forEach((h) => h(payload ?? '')));
    client.on('error', (error) => {
      this.logger.warn(`LISTEN connection lost (${error.message}); reconnecting`);
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      this.reconnectSoon();
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    this.client = client;
  }

  private reconnectSoon(): void {
    if (this.closed) return;
    setTimeout(() => this.connect().catch(() => this.reconnectSoon()), 1000).unref();
  }
}
