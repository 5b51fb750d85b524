import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every relative link in README.md, docs/ and bench/README.md points at a file that exists,
 * and every `#anchor` at a heading of its page, so moving or renaming a page cannot leave a
 * dead link behind. External URLs are not fetched.
 */
const ROOT = resolve(__dirname, '..');
const PAGES = [
  'README.md',
  'bench/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and code spans: links inside code are examples. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** `[text](target)`, `[text](target "title")`, `[ref]: target` and `<a href="target">`. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  return [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
    ...[...text.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((m) => m[1]),
  ];
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .toLowerCase();
    const base = text.replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function brokenLinks(page: string): string[] {
  const source = readFileSync(join(ROOT, page), 'utf8');
  const problems: string[] = [];
  for (const link of linksOf(source)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) continue; // http:, mailto:, …
    const [path, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURI(path));
    if (!existsSync(target)) {
      problems.push(`${page}: ${link} (no file ${relative(ROOT, target)})`);
      continue;
    }
    if (anchor && target.endsWith('.md') && statSync(target).isFile()) {
      if (!anchorsOf(readFileSync(target, 'utf8')).has(decodeURIComponent(anchor))) {
        problems.push(`${page}: ${link} (no heading #${anchor} in ${relative(ROOT, target)})`);
      }
    }
  }
  return problems;
}

describe('documentation links', () => {
  it('finds the pages and their links', () => {
    expect(PAGES).toContain('docs/configuration.md');
    expect(linksOf('see [a](docs/a.md#x), `[b](c.md)` and [d](https://e.example)')).toEqual([
      'docs/a.md#x',
      'https://e.example',
    ]);
    expect([...anchorsOf('# Task service\n## Using the API\n## Using the API\n### `GET /tasks/:id`, polls')]).toEqual([
      'task-service',
      'using-the-api',
      'using-the-api-1',
      'get-tasksid-polls',
    ]);
  });

  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });
});
