import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** How a list route documents its page size: the default, the largest, and (where documented) the smallest. */
export interface PageLimit {
  default: number;
  maximum: number;
  minimum?: 1;
}

type Constructor = new (...args: any[]) => object;

/**
 * The paging field every list route shares: `limit`, an integer from 1 to `maximum`, `default`
 * when absent. A list query extends `PageQuery({ default: 50, maximum: 200 }, ItsFilters)`, so its
 * parameters read filters first, then `limit`, then what the query adds: its own cursor (each
 * list's cursor has its own format and message).
 */
export function PageQuery<Filters extends Constructor>(limit: PageLimit, filters?: Filters) {
  const Base = (filters ?? class {}) as Filters;
  class Page extends Base {
    @ApiPropertyOptional(limit)
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(limit.maximum)
    limit = limit.default;
  }
  return Page;
}
