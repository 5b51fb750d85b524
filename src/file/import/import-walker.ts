import { Dirent } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** A regular file to import: `path` relative to the import directory (with `/`), `real` the path to open. */
export interface ImportCandidate {
  path: string;
  real: string;
}

/** An entry that is not imported, and why. It is never opened. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export type WalkItem = ({ kind: 'file' } & ImportCandidate) | ({ kind: 'skip' } & SkippedEntry);

export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/**
 * The entries below `dir` one at a time (so 10,000 files never sit in one list), without
 * following anything out of `root`: directories are entered only when `recursive`, symlinks
 * are resolved with realpath and kept only when they land on a regular file inside `root`
 * (a symlinked directory is not entered, which also rules out loops), and FIFOs, sockets and
 * devices are reported as skipped from their directory entry, never opened.
 */
export async function* walkImportDirectory(
  root: string,
  dir: string,
  recursive: boolean,
  relative = '',
): AsyncGenerator<WalkItem> {
  for await (const entry of await opendir(dir)) {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    const absolute = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) yield* walkImportDirectory(root, absolute, recursive, path);
      continue;
    }
    if (entry.isSymbolicLink()) {
      yield await resolveLink(root, absolute, path);
      continue;
    }
    if (entry.isFile()) yield { kind: 'file', path, real: absolute };
    else yield { kind: 'skip', path, reason: `${typeOf(entry)}: only regular files are imported` };
  }
}

async function resolveLink(root: string, absolute: string, path: string): Promise<WalkItem> {
  const target = await realpath(absolute).catch(() => null);
  if (target === null) return { kind: 'skip', path, reason: 'symlink whose target does not exist' };
  if (!isInside(root, target)) return { kind: 'skip', path, reason: 'symlink pointing outside IMPORT_ROOT' };
  const found = await stat(target);
  if (found.isFile()) return { kind: 'file', path, real: target };
  if (found.isDirectory()) return { kind: 'skip', path, reason: 'symlink to a directory (not followed)' };
  return { kind: 'skip', path, reason: 'symlink to a special file: only regular files are imported' };
}

function typeOf(entry: Dirent): string {
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'device';
  return 'special file';
}
