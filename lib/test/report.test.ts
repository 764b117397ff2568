import { describe, expect, it } from 'vitest';
import { barChart, lineChart, niceTicks } from '../report/svg.ts';
import { renderPage, table } from '../report/html.ts';

describe('lib/report', () => {
  it('picks 1-2-5 ticks covering the range', () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0.9, 3)).toEqual([0, 0.5, 1]);
  });

  it('draws one path per line series with its points, bands and markers', () => {
    const svg = lineChart({
      title: 'votes <per> second',
      xLabel: 's',
      yLabel: 'votes/s',
      series: [
        { name: 'direct', points: [[0, 1], [1, 3], [2, 2]] },
        { name: 'queue', points: [[0, 5], [1, 9]] },
      ],
      bands: [{ from: 0, to: 1, label: 'warm-up' }],
      markers: [{ x: 1.5, label: 'ernst restarted' }],
    });
    expect(svg).toContain('data-series="direct" data-points="3"');
    expect(svg).toContain('data-series="queue" data-points="2"');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('votes &lt;per&gt; second');
    expect(svg).toContain('ernst restarted');
    expect(svg).toContain('warm-up');
  });

  it('says "no data" for an empty chart and draws grouped bars with values', () => {
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
    const svg = barChart({ title: 'p', yLabel: 'ms', groups: [{ label: 'p50', values: [{ name: 'direct', value: 12 }, { name: 'queue', value: 3 }] }] });
    expect(svg.match(/class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('data-value="12"');
  });

  it('renders an escaped, self-contained page', () => {
    const html = renderPage({ title: 'A & B', warning: 'partial', sections: [{ heading: 'T', html: table(['k', 'n'], [['<x>', 3]]) }], conditions: { cpus: 2 } });
    expect(html).toContain('<title>A &amp; B</title>');
    expect(html).toContain('&lt;x&gt;');
    expect(html).toContain('<td class="num">3</td>');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });
});
