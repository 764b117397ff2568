import { describe, expect, it } from 'vitest';
import { buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { typecheckDashboards } from './fixtures/sdk-typecheck.ts';

// The compiler loads the SDK's declaration files: a few seconds on a busy machine.
describe('the built JSON against the types @grafana/grafana-foundation-sdk ships', () => {
  it('every dashboard and panel (options, field config, queries) type-checks; a broken copy does not', { timeout: 120_000 }, () => {
    const built = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' })).map((d) => ({
      name: d.slug,
      json: JSON.parse(JSON.stringify(d.json)) as unknown,
    }));

    // Negative controls in the same compilation: each must be reported where it was planted.
    const broken = structuredClone(built[1]!.json) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const ts = broken.panels.find((p: { type: string }) => p.type === 'timeseries');
    ts.options.legend.displayMode = 'sideways';
    const st = broken.panels.find((p: { type: string }) => p.type === 'stat');
    st.fieldConfig.defaults.unitt = 'short';
    broken.panels.find((p: { type: string }) => p.type === 'state-timeline').targets[0].exprr = 'up';
    broken.graphTooltip = 'shared';

    const errors = typecheckDashboards([...built, { name: 'broken', json: broken }]);
    expect(errors.filter((e) => e.where !== 'broken' && !e.where.startsWith('broken '))).toEqual([]);
    const planted = errors.map((e) => e.where).sort();
    expect(planted).toEqual(
      [
        'broken',
        `broken panel ${ts.id} (timeseries)`,
        `broken panel ${st.id} (stat)`,
        `broken panel ${broken.panels.find((p: { type: string }) => p.type === 'state-timeline').id} (state-timeline)`,
      ].sort(),
    );
  });
});
