import { load, loadAll } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** PromQL words that are not metric names: functions are told apart by their `(`, these are not. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Good enough for the expressions we ship: label
 * matchers, grouping lists, strings, ranges and numbers are removed first, then every remaining
 * identifier not followed by `(` is a metric.
 */
export function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b\d+(\.\d+)?([smhdwy]|ms)?\b/g, '');
  const names = [...stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1].toLowerCase()))
    .map((m) => m[1]);
  return [...new Set(names)];
}

/** Every PromQL expression the repository ships, with where it comes from. */
export function shippedExpressions(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  const alerts = load(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as any;
  for (const group of alerts.groups)
    for (const rule of group.rules) found.push({ where: `alerts.yml ${rule.alert ?? rule.record}`, expr: rule.expr });
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/task-service.json'), 'utf8'));
  for (const panel of dashboard.panels)
    for (const target of panel.targets ?? []) found.push({ where: `dashboard "${panel.title}"`, expr: target.expr });
  for (const doc of loadAll(readFileSync(join(ROOT, 'deploy/k8s/monitoring/keda.yaml'), 'utf8')) as any[])
    for (const trigger of doc?.spec?.triggers ?? [])
      if (trigger.type === 'prometheus')
        found.push({ where: `keda ${doc.metadata.name}`, expr: trigger.metadata.query });
  return found;
}

/** The series names a /metrics text exposes, histogram and summary suffixes included. */
export function exposedMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name + s));
    if (type === 'summary') ['_sum', '_count'].forEach((s) => names.add(name + s));
  }
  return names;
}
