import { getMetadataStorage } from 'class-validator';

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type Metadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>;
type Grouped = ReturnType<MetadataStorage['groupByPropertyName']>;

const cached = new WeakSet<MetadataStorage>();

/**
 * class-validator looks a class's rules up again on every object it validates, and the lookup
 * walks every validated class in the process (an `instanceof` per class, for inherited rules)
 * and rebuilds its arrays: under `POST /tasks` at 200 connections that was 15% of everything the
 * api allocated (26% with the rest of class-validator), and in a worker 1.5% of its CPU. The rules
 * are fixed once the classes are defined, so the lookup (and its grouping by property) is kept
 * per class and options, and forgotten whenever a rule is registered. Callers only read the
 * arrays (class-validator's executor, Nest's ValidationPipe).
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if (cached.has(storage)) return;
  cached.add(storage);
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  let byTarget = new Map<unknown, Map<string, Metadata>>();
  let grouped = new WeakMap<Metadata, Grouped>();
  const produced = new WeakSet<Metadata>();
  const forget = () => {
    byTarget = new Map();
    grouped = new WeakMap();
  };
  for (const name of ['addValidationMetadata', 'addConstraintMetadata', 'addValidationSchema'] as const) {
    const register = (storage[name] as (...args: unknown[]) => void).bind(storage);
    (storage[name] as (...args: unknown[]) => void) = (...args: unknown[]) => {
      forget();
      register(...args);
    };
  }
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    // Unset and empty groups select the same rules.
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0000') ?? ''}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let metadata = forTarget.get(key);
    if (!metadata) {
      forTarget.set(key, (metadata = lookup(target, schema, always, strictGroups, groups)));
      produced.add(metadata);
    }
    return metadata;
  };
  storage.groupByPropertyName = (metadata) => {
    // Only the arrays kept above, which no one changes, are grouped once.
    if (!produced.has(metadata)) return group(metadata);
    let byProperty = grouped.get(metadata);
    if (!byProperty) grouped.set(metadata, (byProperty = group(metadata)));
    return byProperty;
  };
}
