import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';

/** kombu's Redis transport constants (kombu/transport/redis.py), shared with Celery workers on the broker. */
export const KOMBU = {
  unacked: 'unacked',
  unackedIndex: 'unacked_index',
  unackedMutex: 'unacked_mutex',
  unackedMutexExpireS: 300,
  sep: '\x06\x16',
  prioritySteps: [0, 3, 6, 9],
  bindingPrefix: '_kombu.binding.',
} as const;

/** A message taken from a broker list and held unacked until {@link KombuRedisConsumer.ack}. */
export interface Delivery {
  raw: string;
  /** The list it came from (a priority sub-list included). */
  list: string;
  /** kombu's delivery tag; null for a malformed message, which is not tracked. */
  tag: string | null;
}

// Pops up to ARGV[1] messages in the order of KEYS[3..] and records each in kombu's unacked hash
// and index in the same script, so a consumer that dies right after holds them as kombu's
// restore expects, never loses them in between. Messages without a delivery tag are returned
// untracked (they cannot be acked or restored by anyone).
const FETCH = `
local max, n, out = tonumber(ARGV[1]), 0, {}
for i = 3, #KEYS do
  while n < max do
    local raw = redis.call('RPOP', KEYS[i])
    if not raw then break end
    local ok, msg = pcall(cjson.decode, raw)
    local tag, ex, rk = nil, '', ''
    if ok and type(msg) == 'table' and type(msg.properties) == 'table' then
      tag = msg.properties.delivery_tag
      local di = msg.properties.delivery_info
      if type(di) == 'table' then
        if type(di.exchange) == 'string' then ex = di.exchange end
        if type(di.routing_key) == 'string' then rk = di.routing_key end
      end
    end
    if type(tag) == 'string' then
      redis.call('ZADD', KEYS[2], ARGV[2], tag)
      redis.call('HSET', KEYS[1], tag, '[' .. raw .. ',' .. cjson.encode(ex) .. ',' .. cjson.encode(rk) .. ']')
    else
      tag = ''
    end
    n = n + 1
    out[#out + 1] = raw
    out[#out + 1] = KEYS[i]
    out[#out + 1] = tag
  end
  if n >= max then break end
end
return out`;

// Puts an unacked message back (ARGV[2]) on its queue (ARGV[3]) if the hash still holds what was
// read (ARGV[1]): another consumer's ack or restore in between wins.
const RESTORE = `
if redis.call('HGET', KEYS[1], ARGV[4]) ~= ARGV[1] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('HDEL', KEYS[1], ARGV[4])
redis.call(ARGV[5], ARGV[3], ARGV[2])
return 1`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Consumes Celery's queues on kombu's Redis transport with kombu's ack emulation: a taken message
 * sits in the `unacked` hash (and `unacked_index` by time) until it is acked; what a consumer
 * that died held is put back on its queue once older than the visibility timeout, by any
 * consumer (Celery workers included), as kombu's `restore_visible` does.
 */
export class KombuRedisConsumer {
  private readonly held = new Set<string>();
  private readonly bindings = new Map<string, { at: number; queues: string[] }>();
  private readonly keys: string[];

  constructor(
    private readonly redis: Redis,
    /** A connection of its own for the blocking wait. */
    private readonly blocking: Redis,
    queues: string[],
    private readonly visibilityTimeoutS: number,
  ) {
    // kombu's order: every queue at the highest priority first, then the next step.
    this.keys = KOMBU.prioritySteps.flatMap((step) => queues.map((q) => (step ? `${q}${KOMBU.sep}${step}` : q)));
  }

  /** Messages taken now and not yet acked by this consumer. */
  get holding(): number {
    return this.held.size;
  }

  /**
   * Takes up to `max` messages; when none are waiting, blocks up to `waitS` for one. A message a
   * blocking pop returns is recorded unacked right after (kombu has the same short gap there).
   */
  async take(max: number, waitS: number): Promise<Delivery[]> {
    const taken = await this.fetch(max);
    if (taken.length > 0 || waitS <= 0) return taken;
    const popped = await this.blocking.brpop(...this.keys, waitS);
    if (!popped) return [];
    const [list, raw] = popped;
    const tag = tagOf(raw);
    if (tag) {
      const { exchange, routingKey } = routeOf(raw);
      await this.redis
        .multi()
        .zadd(KOMBU.unackedIndex, nowS(), tag)
        .hset(KOMBU.unacked, tag, `[${raw},${JSON.stringify(exchange)},${JSON.stringify(routingKey)}]`)
        .exec();
      this.held.add(tag);
    }
    return [{ raw, list, tag }, ...(await this.fetch(max - 1))];
  }

  /** Acks: the messages leave the unacked hash and index for good. */
  async ack(tags: (string | null)[]): Promise<void> {
    const real = tags.filter((t): t is string => Boolean(t));
    if (real.length === 0) return;
    await this.redis
      .multi()
      .zrem(KOMBU.unackedIndex, ...real)
      .hdel(KOMBU.unacked, ...real)
      .exec();
    real.forEach((t) => this.held.delete(t));
  }

  /** Puts messages back on their queues now (a batch that could not be committed, shutdown). */
  async restore(tags: (string | null)[], leftmost = false): Promise<number> {
    let restored = 0;
    for (const tag of tags) {
      if (!tag) continue;
      if (await this.restoreTag(tag, leftmost)) restored++;
      this.held.delete(tag);
    }
    return restored;
  }

  /** Everything this consumer still holds goes back (kombu's restore at shutdown). */
  restoreHeld(): Promise<number> {
    return this.restore([...this.held]);
  }

  /**
   * Restores messages unacked for longer than the visibility timeout: their consumer died. One
   * consumer at a time does it, under kombu's `unacked_mutex`.
   */
  async restoreVisible(limit = 100): Promise<number> {
    const token = randomUUID();
    const locked = await this.redis.set(KOMBU.unackedMutex, token, 'EX', KOMBU.unackedMutexExpireS, 'NX');
    if (!locked) return 0;
    try {
      const ceil = nowS() - this.visibilityTimeoutS;
      const tags = await this.redis.zrevrangebyscore(KOMBU.unackedIndex, ceil, 0, 'LIMIT', 0, limit);
      let restored = 0;
      for (const tag of tags) if (await this.restoreTag(tag, false)) restored++;
      return restored;
    } finally {
      await this.redis.eval(RELEASE, 1, KOMBU.unackedMutex, token);
    }
  }

  private async fetch(max: number): Promise<Delivery[]> {
    if (max <= 0) return [];
    const out = (await this.redis.eval(
      FETCH,
      2 + this.keys.length,
      KOMBU.unacked,
      KOMBU.unackedIndex,
      ...this.keys,
      max,
      nowS(),
    )) as string[];
    const deliveries: Delivery[] = [];
    for (let i = 0; i < out.length; i += 3) {
      const tag = out[i + 2] || null;
      if (tag) this.held.add(tag);
      deliveries.push({ raw: out[i], list: out[i + 1], tag });
    }
    return deliveries;
  }

  private async restoreTag(tag: string, leftmost: boolean): Promise<boolean> {
    const stored = await this.redis.hget(KOMBU.unacked, tag);
    if (!stored) {
      await this.redis.zrem(KOMBU.unackedIndex, tag);
      return false;
    }
    let message: Record<string, any>, exchange: string, routingKey: string;
    try {
      [message, exchange, routingKey] = JSON.parse(stored);
    } catch {
      await this.redis.multi().zrem(KOMBU.unackedIndex, tag).hdel(KOMBU.unacked, tag).exec();
      return false;
    }
    // As kombu's _do_restore_message marks it.
    if (message.headers) message.headers.redelivered = true;
    if (message.properties?.delivery_info) message.properties.delivery_info.redelivered = true;
    const payload = JSON.stringify(message);
    let restored = false;
    for (const queue of await this.lookup(exchange, routingKey)) {
      const done = await this.redis.eval(
        RESTORE,
        2,
        KOMBU.unacked,
        KOMBU.unackedIndex,
        stored,
        payload,
        queue,
        tag,
        leftmost ? 'LPUSH' : 'RPUSH',
      );
      restored ||= done === 1;
    }
    return restored;
  }

  /** The queues `routingKey` reaches on `exchange`, from kombu's binding table (cached briefly). */
  private async lookup(exchange: string, routingKey: string): Promise<string[]> {
    if (!exchange) return [routingKey];
    const key = `${exchange}\n${routingKey}`;
    const cached = this.bindings.get(key);
    if (cached && Date.now() - cached.at < 10_000) return cached.queues;
    const members = await this.redis.smembers(`${KOMBU.bindingPrefix}${exchange}`);
    const queues = members
      .map((m) => m.split(KOMBU.sep))
      .filter(([rk]) => rk === routingKey)
      .map(([, , queue]) => queue);
    const found = queues.length > 0 ? [...new Set(queues)] : [routingKey];
    this.bindings.set(key, { at: Date.now(), queues: found });
    return found;
  }
}

function nowS(): number {
  return Date.now() / 1000;
}

function tagOf(raw: string): string | null {
  try {
    const tag = JSON.parse(raw)?.properties?.delivery_tag;
    return typeof tag === 'string' ? tag : null;
  } catch {
    return null;
  }
}

function routeOf(raw: string): { exchange: string; routingKey: string } {
  try {
    const info = JSON.parse(raw)?.properties?.delivery_info ?? {};
    return { exchange: String(info.exchange ?? ''), routingKey: String(info.routing_key ?? '') };
  } catch {
    return { exchange: '', routingKey: '' };
  }
}
