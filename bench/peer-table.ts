/** The one table of `npm run bench:peers`: a column per peer and ratios ours / peer. */
import { CeleryVariant } from './celery-peer';
import { fmt, percentile } from './support';

export interface PeerFigures {
  drain?: number;
  e2e?: number;
  /** Sorted, ms. */
  latencies?: number[];
  io?: number;
  rssMb?: number;
}

export interface PeerTable {
  raw?: PeerFigures;
  ours?: PeerFigures;
  celery?: Map<string, CeleryVariant>;
  rawPg?: PeerFigures;
  embedded?: PeerFigures;
}

type Metric = (f: PeerFigures) => number | undefined;

const p = (q: number) => (f: PeerFigures) => (f.latencies?.length ? percentile(f.latencies, q) : undefined);

/** Each Celery figure from its preferred variant, else from any variant that has it (a run can time out on a busy box). */
export function celeryFigure(
  variants: Map<string, CeleryVariant> | undefined,
  preferred: string,
  pick: (v: CeleryVariant) => number | undefined,
): { value?: number; variant?: string } {
  if (!variants) return {};
  const ordered = [variants.get(preferred), ...variants.values()].filter((v): v is CeleryVariant => !!v);
  const found = ordered.find((v) => pick(v) !== undefined);
  return found ? { value: pick(found), variant: found.variant } : {};
}

export function printPeerTable(table: PeerTable): void {
  const c = (preferred: string, pick: (v: CeleryVariant) => number | undefined) =>
    celeryFigure(table.celery, preferred, pick);
  const celery = {
    e2e: c('prefork-2', (v) => v.e2e),
    p50: c('prefork-2', (v) => v.p50),
    p99: c('prefork-2', (v) => v.p99),
    io: c('gevent-200', (v) => v.sleep50),
    rss: c('threads-50', (v) => v.rssMb),
  };
  const rows: { label: string; unit: string; metric: Metric; celery?: number; variant?: string; digits?: number }[] = [
    { label: 'no-op drain (queued → done)', unit: 'tasks/s', metric: (f) => f.drain },
    {
      label: 'submit + run',
      unit: 'tasks/s',
      metric: (f) => f.e2e,
      celery: celery.e2e.value,
      variant: celery.e2e.variant,
    },
    {
      label: 'submit → SUCCESS p50',
      unit: 'ms',
      metric: p(50),
      celery: celery.p50.value,
      variant: celery.p50.variant,
      digits: 2,
    },
    {
      label: 'submit → SUCCESS p99',
      unit: 'ms',
      metric: p(99),
      celery: celery.p99.value,
      variant: celery.p99.variant,
      digits: 2,
    },
    {
      label: '50 ms I/O tasks, high conc.',
      unit: 'tasks/s',
      metric: (f) => f.io,
      celery: celery.io.value,
      variant: celery.io.variant,
    },
    {
      label: 'idle worker RSS',
      unit: 'MB',
      metric: (f) => f.rssMb,
      celery: celery.rss.value,
      variant: celery.rss.variant,
      digits: 1,
    },
  ];
  const cell = (value: number | undefined, digits = 0) => (value === undefined ? '—' : fmt(value, digits)).padStart(9);
  const ratio = (a: number | undefined, b: number | undefined) =>
    (a === undefined || b === undefined || b === 0 ? '—' : `${fmt(a / b, 2)}x`).padStart(8);
  const header = ['raw', 'ours', 'ours/raw', 'celery', 'ours/cel', 'raw PG', 'embedded', 'emb/rawPG'];
  console.log(
    `${''.padEnd(30)} ${''.padEnd(7)} ${header.map((h, i) => h.padStart([2, 4, 7].includes(i) ? 8 : 9)).join(' ')}`,
  );
  for (const row of rows) {
    const get = (f: PeerFigures | undefined) => (f ? row.metric(f) : undefined);
    const [raw, ours, rawPg, embedded] = [table.raw, table.ours, table.rawPg, table.embedded].map(get);
    console.log(
      [
        row.label.padEnd(30),
        row.unit.padEnd(7),
        cell(raw, row.digits),
        cell(ours, row.digits),
        ratio(ours, raw),
        cell(row.celery, row.digits),
        ratio(ours, row.celery),
        cell(rawPg, row.digits),
        cell(embedded, row.digits),
        ratio(embedded, rawPg),
        row.variant ? ` celery ${row.variant}` : '',
      ].join(' '),
    );
  }
  console.log(
    '\nours/peer: higher is better for tasks/s, lower for ms and MB. Celery: no-op rows from prefork-2 (the old ' +
      'system), I/O from gevent-200, RSS = peak of threads-50, else the variant named at the end of the row ' +
      '(Celery has no separate drain phase). ' +
      'I/O rows: ours and raw drain queued sleeps; Celery enqueues while consuming.',
  );
}
