import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

/** The three ways to reach Redis; a deployment names exactly one of them (or none, for the embedded default). */
export const REDIS_TOPOLOGY_VARIABLES = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const;

/** One `host:port` of a node list, optionally `redis://` or `rediss://` (TLS, as for `REDIS_URL`). */
export const REDIS_NODE_LIST = /^(rediss?:\/\/)?[\w.-]+:\d{1,5}(,(rediss?:\/\/)?[\w.-]+:\d{1,5})*$/;

export interface RedisNode {
  host: string;
  port: number;
}

/** `a:26379,rediss://b:26379` → the nodes, and whether they speak TLS (any `rediss://` entry). */
export function parseRedisNodes(list: string): { nodes: RedisNode[]; tls: boolean } {
  const entries = list.split(',').map((entry) => entry.trim());
  const nodes = entries.map((entry) => {
    const [host, port] = entry.replace(/^rediss?:\/\//, '').split(':');
    return { host, port: Number(port) };
  });
  return { nodes, tls: entries.some((entry) => entry.startsWith('rediss://')) };
}

/**
 * Refuses a second Redis topology: with `REDIS_URL` and `REDIS_CLUSTER_NODES` both set, which
 * one the operator meant is a guess, so the boot stops and names both. Declared on the later
 * variables of {@link REDIS_TOPOLOGY_VARIABLES}, each checking the ones before it.
 */
@ValidatorConstraint({ name: 'oneRedisTopology' })
export class OneRedisTopology implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return value === undefined || this.earlierSet(args).length === 0;
  }

  defaultMessage(args: ValidationArguments): string {
    const earlier = this.earlierSet(args);
    // Asked without a clash (the configuration page describes the rule): the rule itself.
    if (earlier.length === 0)
      return `${args.property} must be the only one of ${REDIS_TOPOLOGY_VARIABLES.join(', ')} set`;
    return `${[...earlier, args.property].join(' and ')} are both set; set exactly one of ${REDIS_TOPOLOGY_VARIABLES.join(', ')}`;
  }

  private earlierSet(args: ValidationArguments): string[] {
    const env = args.object as Record<string, unknown>;
    const earlier = REDIS_TOPOLOGY_VARIABLES.slice(0, REDIS_TOPOLOGY_VARIABLES.indexOf(args.property as never));
    return earlier.filter((name) => env[name] !== undefined && env[name] !== '');
  }
}

/** Same TLS on every node: a list mixing `redis://` and `rediss://` is a typo, not a plan. */
@ValidatorConstraint({ name: 'oneRedisScheme' })
export class OneRedisScheme implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return true;
    const entries = value.split(',');
    const tls = entries.filter((entry) => entry.startsWith('rediss://')).length;
    return tls === 0 || tls === entries.length;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must use rediss:// on every node or on none`;
  }
}

/**
 * `REDIS_SENTINEL_MASTER` means nothing without the sentinels to ask for it: set alone (a
 * half-copied Secret), the service would fall back to another transport and the operator's
 * Sentinel setting would be silently ignored, so the boot stops and names both variables.
 */
@ValidatorConstraint({ name: 'sentinelMasterNeedsSentinels' })
export class SentinelMasterNeedsSentinels implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const sentinels = (args.object as Record<string, unknown>).REDIS_SENTINELS;
    return value === undefined || value === '' || (sentinels !== undefined && sentinels !== '');
  }

  defaultMessage(args: ValidationArguments): string {
    // Asked without a value (the configuration page describes the rule): the rule itself.
    if ((args.object as Record<string, unknown>)[args.property] === undefined)
      return `${args.property} must be set only together with REDIS_SENTINELS`;
    return 'REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS; set REDIS_SENTINELS to the sentinels that watch it, or unset REDIS_SENTINEL_MASTER';
  }
}
