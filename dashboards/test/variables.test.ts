import { describe, expect, it } from 'vitest';
import { NODE, RPI } from '../../lib/catalog.ts';
import { verdictOf, type PanelInputs, type PanelResult, type SelectionResult } from '../evaluate.ts';
import { ALL_VALUE, interpolate, type ResolvedVariable } from '../grafana-template.ts';
import { variableDefs } from '../grafana-variables.ts';
import { metricNames } from '../metric-names.ts';
import { allPanels, variableExpression } from '../queries.ts';
import { buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';

// What the dashboards' variables mean once Grafana resolves them (issue 16,
// defects 1-3). The end-to-end tests show the same on real exporters.

const built = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' }));
const json = (slug: string) => built.find((d) => d.slug === slug)!.json;
const exprsOf = (slug: string, title: string) =>
  allPanels(json(slug))
    .filter((p) => p.title === title)
    .flatMap((p) => (p.targets as { expr: string }[]).map((t) => t.expr));

describe('All means the values found, except for $namespace', () => {
  it('no variable but $namespace has a custom all value', () => {
    const custom = built.flatMap((d) => variableDefs(d.json).filter((v) => v.allValue).map((v) => `${d.slug} $${v.name}=${v.allValue}`));
    expect(custom).toEqual(['myhero-service $namespace=.*', 'workloads-autoscaling $namespace=.*', 'gameday $namespace=.*']);
  });

  it('"Exporter targets up" reads only the Pi exporter jobs, per job and node', () => {
    const [expr] = exprsOf('pi-cluster', 'Exporter targets up');
    const job: ResolvedVariable = { name: 'job', type: 'query', multi: true, includeAll: true, options: ['arm-exporter'], current: ALL_VALUE };
    const node: ResolvedVariable = { name: 'node', type: 'query', multi: true, includeAll: true, options: ['pi-1', 'pi-2'], current: ALL_VALUE };
    const sent = interpolate(expr!, { variables: new Map([['job', job], ['node', node]]), macros: {} });
    expect(sent).toContain('max by (job, instance) (up{job=~"arm-exporter", instance=~"((pi-1|pi-2))(:[0-9]+)?"})');
  });

  it('the twin\'s targets-up panels keep every instance apart', () => {
    expect(exprsOf('myhero-service', 'Targets up')).toEqual([expect.stringMatching(/^max by \(job, instance\) \(up\{job=~"\$job"/)]);
  });
});

describe('$node and the node-exporter panels, whatever node-exporter\'s instance label holds', () => {
  it('$node lists node-exporter\'s nodes as well as the Pi exporter\'s, over the whole range', () => {
    const node = variableDefs(json('pi-cluster')).find((v) => v.name === 'node')!;
    expect(metricNames(variableExpression(node.query)!)).toEqual([NODE.unameInfo, RPI.cpuTemperature]);
    expect(node.query).toContain('[$__range]');
  });

  it('every node-exporter query selects $node through node_uname_info{nodename}, never through instance', () => {
    const nodeMetrics = new Set<string>(Object.values(NODE));
    const exprs = allPanels(json('pi-cluster')).flatMap((p) => ((p.targets ?? []) as { expr: string }[]).map((t) => t.expr));
    const readingNode = exprs.filter((e) => metricNames(e).some((m) => nodeMetrics.has(m)));
    expect(readingNode.length).toBeGreaterThanOrEqual(9);
    for (const e of readingNode) {
      expect(e).toContain(`* on (instance) group_left (nodename) ${NODE.unameInfo}{job="node-exporter", nodename=~"$node"}`);
      expect(e.replace(/instance=~"\(\$node\)[^"]*", /g, '')).not.toMatch(/node_[a-z_]+\{[^}]*instance=~"\(\$node\)/);
    }
  });
});

describe('verdicts', () => {
  const info = (over: Partial<PanelInputs> = {}): PanelInputs => ({ id: 1, title: 'p', inputs: ['a', 'b'], absent: [], variables: ['job'], ...over });
  const result = (series: number[], error?: string): PanelResult => ({
    id: 1,
    title: 'p',
    queries: series.map((n, i) => ({ ref: 'ABC'[i]!, expr: 'x', sent: 'x', instant: false, series: n, ...(error && i === 0 ? { error } : {}) })),
  });
  const selection = (jobOptions: string[]): SelectionResult => ({
    kind: 'all',
    picked: {},
    variables: [{ name: 'job', sent: 'label_values(a, job)', options: jobOptions }],
    panels: [],
    annotations: [],
  });

  it('data when any query returns a series; an error whatever else', () => {
    expect(verdictOf(info(), result([0, 2]), selection(['x']))).toBe('data');
    expect(verdictOf(info(), result([3, 0], 'bad_data: parse error'), selection(['x']))).toBe('error');
  });
  it('no data is a failure while an input exists and its variables found values', () => {
    expect(verdictOf(info({ absent: ['a'] }), result([0]), selection(['x']))).toBe('no data');
  });
  it('not judged when every input is absent, or a variable it selects by found nothing', () => {
    expect(verdictOf(info({ absent: ['a', 'b'] }), result([0]), selection(['x']))).toBe('not judged');
    expect(verdictOf(info(), result([0]), selection([]))).toBe('not judged');
  });
});
