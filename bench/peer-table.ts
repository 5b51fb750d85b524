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

/** Celery's figures per row: no-op rows from the old system's prefork-2, I/O from gevent-200, RSS from threads-50. */
function celeryFigures(variants: Map<string, CeleryVariant> | undefined): PeerFigures | undefined {
  if (!variants) return undefined;
  const pick = (name: string) => variants.get(name) ?? [...variants.values()][0];
  const noop = pick('prefork-2');
  return {
    e2e: noop.e2e,
    latencies: undefined,
    io: variants.get('gevent-200')?.sleep50,
    rssMb: variants.get('threads-50')?.rssMb,
  };
}

export function printPeerTable(table: PeerTable): void {
  const celery = celeryFigures(table.celery);
  const celeryNoop = table.celery && (table.celery.get('prefork-2') ?? [...table.celery.values()][0]);
  const rows: { label: string; unit: string; metric: Metric; celery?: number; digits?: number }[] = [
    { label: 'no-op drain (queued → done)', unit: 'tasks/s', metric: (f) => f.drain },
    { label: 'submit + run', unit: 'tasks/s', metric: (f) => f.e2e, celery: celery?.e2e },
    { label: 'submit → SUCCESS p50', unit: 'ms', metric: p(50), celery: celeryNoop?.p50, digits: 2 },
    { label: 'submit → SUCCESS p99', unit: 'ms', metric: p(99), celery: celeryNoop?.p99, digits: 2 },
    { label: '50 ms I/O tasks, high conc.', unit: 'tasks/s', metric: (f) => f.io, celery: celery?.io },
    { label: 'idle worker RSS', unit: 'MB', metric: (f) => f.rssMb, celery: celery?.rssMb, digits: 1 },
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
      ].join(' '),
    );
  }
  console.log(
    '\nours/peer: higher is better for tasks/s, lower for ms and MB. Celery: no-op rows from prefork-2 (the old ' +
      'system), I/O from gevent-200, RSS = peak of threads-50 (Celery has no separate drain phase). ' +
      'I/O rows: ours and raw drain queued sleeps; Celery enqueues while consuming.',
  );
}
