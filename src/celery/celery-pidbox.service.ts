import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { KOMBU } from './kombu-redis-consumer';
import { CeleryConnections } from './celery-connections';
import { CeleryInspector } from './celery-inspector';
import { CeleryRevoker } from './celery-revoker';

const PIDBOX = 'celery.pidbox';
const REPLY_EXCHANGE = 'reply.celery.pidbox';

interface ControlCommand {
  method: string;
  arguments?: Record<string, any>;
  destination?: string[] | null;
  ticket?: string;
  reply_to?: { exchange: string; routing_key: string } | null;
}

/**
 * Celery's remote control: listens on kombu's Redis fanout for `celery.pidbox` (what
 * `app.control` and `celery inspect`/`control` broadcast) and answers as a Celery worker node:
 * `revoke` becomes our cancel, `ping` and `inspect active/reserved/scheduled/registered/stats`
 * report this process's live data on the caller's reply queue.
 */
@Injectable()
export class CeleryPidbox implements OnApplicationBootstrap {
  private readonly logger = new Logger(CeleryPidbox.name);
  private clock = 0;

  constructor(
    private readonly connections: CeleryConnections,
    private readonly inspector: CeleryInspector,
    private readonly revoker: CeleryRevoker,
  ) {}

  onApplicationBootstrap(): void {
    const subscriber = this.connections.subscriber;
    subscriber.on('pmessage', (_pattern, _channel, message) => void this.receive(message));
    // kombu publishes a broadcast on /{db}.celery.pidbox (a routing key, if any, after a slash).
    // Not awaited, so a broker that is down does not hold up the boot; ioredis subscribes again
    // after each reconnect.
    const topic = `/${this.connections.db}.${PIDBOX}`;
    subscriber
      .psubscribe(topic, `${topic}/*`)
      .catch((error) => this.logger.warn(`Could not subscribe to the Celery pidbox: ${error.message}`));
  }

  private async receive(raw: string): Promise<void> {
    let command: ControlCommand;
    let headers: Record<string, any>;
    try {
      const envelope = JSON.parse(raw);
      headers = envelope.headers ?? {};
      const body =
        envelope.properties?.body_encoding === 'base64'
          ? Buffer.from(envelope.body, 'base64').toString('utf8')
          : envelope.body;
      command = typeof body === 'string' ? JSON.parse(body) : body;
    } catch {
      this.logger.warn('Ignored a pidbox message that is not kombu JSON');
      return;
    }
    this.clock = Math.max(this.clock, Number(headers.clock) || 0) + 1;
    if (typeof headers.expires === 'number' && headers.expires < Date.now() / 1000) return;
    const destination = command.destination;
    if (Array.isArray(destination) && destination.length > 0 && !destination.includes(this.connections.nodeName))
      return;
    let reply: unknown;
    try {
      reply = await this.dispatch(command);
    } catch (error) {
      this.logger.warn(`Celery control ${command.method} failed: ${error.message}`);
      reply = { error: error.message };
    }
    if (command.reply_to && command.ticket && reply !== undefined) {
      await this.reply(command.reply_to.routing_key, command.ticket, reply).catch((error) =>
        this.logger.warn(`Could not answer Celery control ${command.method}: ${error.message}`),
      );
    }
  }

  private async dispatch(command: ControlCommand): Promise<unknown> {
    const args = command.arguments ?? {};
    switch (command.method) {
      case 'ping':
        return { ok: 'pong' };
      case 'revoke': {
        const ids: string[] = Array.isArray(args.task_id) ? args.task_id : [args.task_id];
        await Promise.all(ids.map((id) => this.revoker.revoke(String(id), Boolean(args.terminate))));
        return { ok: `tasks ${ids.join(', ')} flagged as revoked` };
      }
      case 'active':
        return this.inspector.active();
      case 'reserved':
        return this.inspector.reserved();
      case 'scheduled':
        return this.inspector.scheduled();
      case 'registered':
        return this.inspector.registered();
      case 'stats':
        return this.inspector.stats(this.clock);
      case 'revoked':
        return this.inspector.revoked();
      case 'active_queues':
        return this.inspector.activeQueues();
      case 'clock':
        return { clock: this.clock };
      case 'hello': {
        // A Celery worker starting on the same broker (a rollback): share the revoked ids, as nodes do.
        const now = Date.now() / 1000;
        return { revoked: Object.fromEntries(this.inspector.revoked().map((id) => [id, now])), clock: this.clock };
      }
      default:
        return { error: `No such command: ${command.method} (the task service answers ping, revoke and inspect)` };
    }
  }

  /** Pushes the reply where kombu's direct exchange `reply.celery.pidbox` routes `routingKey`. */
  private async reply(routingKey: string, ticket: string, reply: unknown): Promise<void> {
    const broker = this.connections.broker;
    const body = Buffer.from(JSON.stringify({ [this.connections.nodeName]: reply })).toString('base64');
    const message = JSON.stringify({
      body,
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: { ticket, clock: ++this.clock },
      properties: {
        delivery_mode: 2,
        delivery_info: { exchange: REPLY_EXCHANGE, routing_key: routingKey },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: randomUUID(),
      },
    });
    const members = await broker.smembers(`${KOMBU.bindingPrefix}${REPLY_EXCHANGE}`);
    const queues = members.map((m) => m.split(KOMBU.sep)).filter(([rk]) => rk === routingKey);
    const targets = queues.length > 0 ? queues.map(([, , queue]) => queue) : [`${routingKey}.${REPLY_EXCHANGE}`];
    const pipeline = broker.pipeline();
    for (const queue of new Set(targets)) pipeline.lpush(queue, message);
    await pipeline.exec();
  }
}
