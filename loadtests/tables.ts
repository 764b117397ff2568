// Tables as the reports print them: GitHub-flavoured Markdown for summary.md, and
// padded columns for a terminal. One of each, for every table the load tests print.

type Cell = string | number;

/** A Markdown table; columns from `rightFrom` on are right-aligned (figures), the others left. */
export function mdTable(head: readonly string[], rows: readonly (readonly Cell[])[], rightFrom = Infinity): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i >= rightFrom ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Columns padded to their widest cell, two spaces apart; the columns in `left` are left-aligned, the others right. */
export function textTable(head: readonly string[], rows: readonly (readonly Cell[])[], left: readonly number[]): string {
  const grid = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...grid.map((row) => row[i]!.length)));
  return grid.map((row) => row.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
