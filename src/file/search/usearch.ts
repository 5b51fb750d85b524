import type * as Usearch from 'usearch';

/**
 * usearch (a native addon) loads with the first search or graph that needs it, not in every
 * process that has the file module: most workers and the api never scan a vector.
 */
export function usearch(): typeof Usearch {
  return require('usearch') as typeof Usearch;
}
