/**
 * The oldest Node.js the lockfile's dependencies support (`nopt`, `abbrev` and
 * `@angular-devkit/*` declare `^22.22.3`); package.json `engines` says the same (a unit
 * spec checks they agree). Older Nodes install with warnings and then fail in odd places.
 */
export const REQUIRED_NODE = '22.22.3';

/** The one line to print when `version` (e.g. `process.versions.node`) is older than required; else undefined. */
export function nodeVersionProblem(version: string, required = REQUIRED_NODE): string | undefined {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = required.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i]) {
      return `This service needs Node.js >= ${required} (this is ${version.replace(/^v/, '')}); install Node 22 LTS, e.g. nvm install 22`;
    }
  }
  return undefined;
}

/** Exits 1 with that line before anything else loads (imported first by main.ts and cli.ts). */
export function refuseOldNode(): void {
  const problem = nodeVersionProblem(process.versions.node);
  if (!problem) return;
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
