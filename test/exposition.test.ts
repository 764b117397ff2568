import { spawnSync } from 'node:child_process';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { promtoolBinary } from '../lib/promstack.ts';
import { parseExposition, seriesOf, sumOf, valueOf } from './fixtures/exposition.ts';

// The tests' exposition parser against text that promtool accepts (prom-client's own
// output: escapes in label values and help, a labelled histogram), and malformed lines.

async function sampleText(): Promise<string> {
  const registry = new Registry();
  const votes = new Counter({ name: 'votes_total', help: 'Votes with a \\ backslash\nand a new line.', labelNames: ['hero'], registers: [registry] });
  votes.inc({ hero: 'Say "hi"\\C:\\dir\nnext' }, 3);
  votes.inc({ hero: 'plain' }, 1);
  const latency = new Histogram({ name: 'latency_seconds', help: 'Latency.', labelNames: ['mode'], buckets: [0.1, 1], registers: [registry] });
  latency.observe({ mode: 'queue' }, 0.05);
  latency.observe({ mode: 'queue' }, 5);
  latency.observe({ mode: 'direct' }, 0.5);
  return registry.metrics();
}

describe('the exposition parser of the tests', () => {
  it('reads what promtool accepts: escaped labels and help, every series of a labelled histogram', async () => {
    const text = await sampleText();
    const check = spawnSync(promtoolBinary(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const exp = parseExposition(text);
    expect(exp.help.get('votes_total')).toBe('Votes with a \\ backslash\nand a new line.');
    expect(exp.type.get('latency_seconds')).toBe('histogram');
    expect(seriesOf(exp, 'votes_total')).toEqual([
      { labels: { hero: 'plain' }, value: 1 },
      { labels: { hero: 'Say "hi"\\C:\\dir\nnext' }, value: 3 },
    ]);
    expect(seriesOf(exp, 'latency_seconds_bucket')).toEqual([
      { labels: { le: '+Inf', mode: 'direct' }, value: 1 },
      { labels: { le: '+Inf', mode: 'queue' }, value: 2 },
      { labels: { le: '0.1', mode: 'direct' }, value: 0 },
      { labels: { le: '0.1', mode: 'queue' }, value: 1 },
      { labels: { le: '1', mode: 'direct' }, value: 1 },
      { labels: { le: '1', mode: 'queue' }, value: 1 },
    ]);
    expect(valueOf(exp, 'latency_seconds_sum', { mode: 'queue' })).toBe(5.05);
    expect(valueOf(exp, 'latency_seconds_count', { mode: 'direct' })).toBe(1);
    expect(valueOf(exp, 'latency_seconds_count', { mode: 'sideways' })).toBeUndefined();
    expect(sumOf(exp, 'votes_total')).toBe(4);
    expect(sumOf(exp, 'votes_cast_total')).toBeUndefined();
  });

  it('reads special values and timestamps', () => {
    // prom-client writes `Nan` for a gauge it has no value for; Prometheus reads it as NaN.
    const exp = parseExposition('a +Inf\nb -Inf\nc NaN\nd{x="1"} 1.5e3 1395066363000\ne Nan\nf inf\n');
    expect(exp.series.map((s) => s.value)).toEqual([Infinity, -Infinity, NaN, 1500, NaN, Infinity]);
  });

  it.each([
    ['a value that is not a number', 'votes_total 12abc'],
    ['no value', 'votes_total{hero="x"}'],
    ['an unterminated label value', 'votes_total{hero="x} 1'],
    ['a label without quotes', 'votes_total{hero=x} 1'],
    ['a label twice', 'votes_total{hero="x",hero="y"} 1'],
    ['a bad metric name', '1votes_total 1'],
  ])('fails the test on %s (negative control)', (_, line) => {
    expect(() => parseExposition(`# TYPE votes_total counter\n${line}\n`)).toThrow(line);
  });
});
