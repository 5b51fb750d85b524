/** Prints either JSON (for scripts) or text for people. */
export class CliOutput {
  constructor(readonly json: boolean) {}

  result(value: unknown, human: () => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }
}

/** A plain text table: a header row, a rule, and columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function seconds(value: number): string {
  if (value < 60) return `${value.toFixed(1)}s`;
  if (value < 3600) return `${Math.floor(value / 60)}m${Math.round(value % 60)}s`;
  return `${Math.floor(value / 3600)}h${Math.round((value % 3600) / 60)}m`;
}
