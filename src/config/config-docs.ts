import 'reflect-metadata';
import { getMetadataStorage, ValidationArguments } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as markdown from 'prettier/plugins/markdown';
import * as prettier from 'prettier/standalone';
import * as ts from 'typescript';
import { CONFIG_SECTIONS } from './config-sections';
import { Environment } from './environment';

/**
 * Renders docs/configuration.md from the environment classes themselves: the variables and
 * their order from the classes, defaults from a fresh instance, rules from the class-validator
 * decorators, descriptions from each property's TSDoc. `src/config/config-docs.spec.ts` fails
 * when the committed page differs, so the page cannot drift from the code.
 * Regenerate with `npm run docs:config`.
 */

const SRC = join(__dirname, '..');
export const CONFIGURATION_DOC = join(SRC, '..', 'docs', 'configuration.md');

/**
 * Descriptions of the variables whose property has no TSDoc yet. A TSDoc line on the property
 * wins over an entry here; a new variable needs one or the other (the spec lists any without).
 */
export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  PORT: 'HTTP port. Workers listen too (probes and task metrics), so give a worker on the same machine another one.',
  ROLE: '`api` serves HTTP, `worker` runs the queues, `all` does both in one process (the laptop default).',
  DATABASE_URL: 'PostgreSQL for task records and domain data. Unset: an embedded PostgreSQL under `DATA_DIR`.',
  REDIS_URL:
    "Redis for the queues (the production transport). Unset: BullMQ's PostgreSQL backend on the same database.",
  EMBEDDED_POSTGRES_PORT: 'Port of the embedded PostgreSQL (only when `DATABASE_URL` is unset).',
  DATABASE_POOL_SIZE: 'Connections in each process’s TypeORM pool.',
  WORKER_CONCURRENCY: 'Jobs each queue runs at once in this process (`QUEUE_CONCURRENCY` overrides it per queue).',
  RECONCILE_INTERVAL_MS: 'How often unfinished records are checked for a lost job.',
  ADMIN_API_KEY:
    'An admin API key created (or kept) at start; unset, the first start generates one and prints it once.',
  SHUTDOWN_GRACE_MS: 'On SIGTERM, running tasks get this long to finish before their jobs are released.',
  TZ: 'Time zone of calendar days and schedules (credit expiry, daily stats). Timestamps are stored in UTC.',
  LOG_LEVEL: 'pino log level.',
  LOG_FORMAT: '`json` lines (for log storage) or `pretty` (for a terminal).',
  EMBEDDINGS_MODEL: 'Model name sent to `EMBEDDINGS_URL` and stored on each file.',
  EMBEDDINGS_API_KEY: 'Sent to `EMBEDDINGS_URL` as `Authorization: Bearer …`.',
  EMBEDDINGS_BATCH_SIZE: 'Inputs per embeddings request.',
  EMBEDDINGS_TIMEOUT_MS: 'Timeout of one embeddings request.',
  CHUNK_OVERLAP_TOKENS: 'Tokens shared by consecutive chunks.',
  MAIL_FROM: 'Sender of every message; its domain is used for Message-IDs.',
  EMAIL_DEFAULT_LOCALE: 'Template locale when a request gives none.',
  API_CALLS_MAX_REDIRECTS: 'Redirects followed (each checked by the SSRF guard) before the task fails.',
};

export interface VariableDoc {
  name: string;
  defaultValue: string;
  rule: string;
  description: string | undefined;
}

export interface SectionDoc {
  className: string;
  file: string | undefined;
  summary: string | undefined;
  variables: VariableDoc[];
}

/** Every section the service validates at boot, in the order it validates them. */
export function describeConfiguration(): SectionDoc[] {
  const comments = readComments();
  return [Environment, ...CONFIG_SECTIONS].map((cls) => {
    const own = comments.get(cls.name);
    const instance = new cls() as Record<string, unknown>;
    const byProperty = new Map<string, ValidationMetadata[]>();
    // class-validator lists a property's decorators bottom-up; reversed, they read as written.
    for (const m of [...getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false)].reverse()) {
      byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
    }
    // Every declared property, in source order (a property without decorators is read too).
    const names = own?.order ?? [...new Set([...byProperty.keys(), ...Object.keys(instance)])];
    return {
      className: cls.name,
      file: own?.file,
      // The core class's own TSDoc speaks of every variable; on the page it is one section of many.
      summary:
        cls === Environment ? 'The process: its role, store, transport, workers, records and logs.' : own?.summary,
      variables: names.map((name) => ({
        name,
        defaultValue: formatDefault(instance[name]),
        rule: describeRules(name, byProperty.get(name) ?? []),
        description: own?.properties.get(name) ?? DESCRIPTIONS[name],
      })),
    };
  });
}

/** The Markdown page, formatted as Prettier (which `npm run lint` checks) would leave it. */
export async function renderConfigurationDoc(sections = describeConfiguration()): Promise<string> {
  // The standalone build: the Node entry loads its plugins with import(), which Jest cannot run.
  const options = JSON.parse(readFileSync(join(SRC, '..', '.prettierrc.json'), 'utf8')) as Record<string, unknown>;
  return prettier.format(renderMarkdown(sections), { ...options, parser: 'markdown', plugins: [markdown] });
}

/** One table per section, every variable of every section. */
function renderMarkdown(sections: SectionDoc[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from the environment classes (src/config/config-docs.ts). Do not edit. -->',
    '',
    'Every variable is optional. At start, before anything else runs, the service validates all of them',
    '(the core `Environment` and every class in `src/config/config-sections.ts`) and refuses to run, with',
    'exit code 78 and one line per bad variable naming its rule. An empty variable counts as unset, so its',
    'default applies. `.env.example` is a commented starting point.',
    '',
  ];
  for (const section of sections) {
    const title =
      section.className
        .replace(/Environment$/, '')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .replace(/^Api /, 'API ') || 'Core';
    lines.push(`## ${title}`, '', `\`${section.className}\`${section.file ? ` in \`${section.file}\`` : ''}.`, '');
    if (section.summary) lines.push(cell(section.summary), '');
    lines.push('| variable | default | rule | meaning |', '| --- | --- | --- | --- |');
    for (const v of section.variables) {
      lines.push(`| \`${v.name}\` | ${cell(v.defaultValue)} | ${cell(v.rule)} | ${cell(v.description ?? '—')} |`);
    }
    lines.push('');
  }
  lines.push(
    '## Read by the CLI only',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    '| `TASK_SERVICE_URL` | `http://127.0.0.1:$PORT` | the api that `inspect`, `status`, `purge`, `pause` and `resume` talk to |',
    '| `TASK_SERVICE_API_KEY` | `ADMIN_API_KEY` | the admin key they send |',
    '',
  );
  return lines.join('\n');
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

/** One phrase per variable from its decorators, e.g. "integer 1–1000" or "one of `json`, `pretty`". */
function describeRules(name: string, rules: ValidationMetadata[]): string {
  const by = (n: string) => rules.find((r) => r.name === n);
  const min = by('min')?.constraints[0] as number | undefined;
  const max = by('max')?.constraints[0] as number | undefined;
  const parts: string[] = [];
  if (by('isInt')) {
    const range =
      min !== undefined && max !== undefined
        ? ` ${min}–${max}`
        : min !== undefined
          ? ` ≥ ${min}`
          : max !== undefined
            ? ` ≤ ${max}`
            : '';
    parts.push(`integer${range}`);
  }
  if (by('isBoolean')) parts.push('`true` or `false` (`1`, `0`)');
  const isIn = by('isIn');
  if (isIn) parts.push(`one of ${(isIn.constraints[0] as string[]).map((v) => `\`${v}\``).join(', ')}`);
  for (const rule of rules) {
    if (
      rule.type !== 'customValidation' ||
      ['isInt', 'min', 'max', 'isIn', 'isBoolean', 'isString'].includes(rule.name ?? '')
    ) {
      continue;
    }
    parts.push(withoutName(name, messageOf(name, rule)));
  }
  if (parts.length === 0 && by('isString')) parts.push('text');
  return parts.join('; ') || '—';
}

/** The message the rule gives for a bad value: its own, or its constraint class's default. */
function messageOf(name: string, rule: ValidationMetadata): string {
  if (typeof rule.message === 'string') return rule.message;
  const args: ValidationArguments = {
    value: undefined,
    constraints: rule.constraints ?? [],
    targetName: '',
    object: {},
    property: name,
  };
  const constraint = getMetadataStorage().getTargetValidatorConstraints(rule.constraintCls)[0];
  const instance = constraint
    ? new (constraint.target as new () => { defaultMessage?(a: ValidationArguments): string })()
    : undefined;
  const message = instance?.defaultMessage?.(args);
  // A message that reads as a rule ("TZ must be …") describes it; one written about a particular
  // bad value (which this has none of) does not, and the constraint's name says more.
  if (message && new RegExp(`^${name} (must|may) `).test(message)) return message;
  return `\`${constraint?.name ?? rule.name ?? 'custom rule'}\``;
}

function withoutName(name: string, message: string): string {
  return message.startsWith(`${name} `) ? message.slice(name.length + 1) : message;
}

interface ClassComments {
  file: string;
  summary: string | undefined;
  order: string[];
  properties: Map<string, string>;
}

/** TSDoc of each environment class and its properties, read from the `*environment.ts` sources. */
function readComments(): Map<string, ClassComments> {
  const found = new Map<string, ClassComments>();
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => /environment\.ts$/.test(f));
  for (const file of files) {
    const path = join(SRC, file);
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const node of source.statements) {
      if (!ts.isClassDeclaration(node) || !node.name) continue;
      const properties = new Map<string, string>();
      const order: string[] = [];
      for (const member of node.members) {
        if (!ts.isPropertyDeclaration(member) || !ts.isIdentifier(member.name)) continue;
        order.push(member.name.text);
        const doc = docOf(member);
        if (doc) properties.set(member.name.text, doc);
      }
      found.set(node.name.text, { file: `src/${file}`, summary: docOf(node), order, properties });
    }
  }
  return found;
}

function docOf(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join(' ');
  // `{@link X}` reads as X on the page.
  return (
    text
      .replace(/\{@link\s+([^}]+)\}/g, '`$1`')
      .replace(/\s+/g, ' ')
      .trim() || undefined
  );
}

if (require.main === module) {
  void renderConfigurationDoc().then((page) => {
    writeFileSync(CONFIGURATION_DOC, page);
    process.stdout.write(`Wrote ${relative(process.cwd(), CONFIGURATION_DOC)}\n`);
  });
}
