import { describe, expect, it } from 'vitest';
import { KSM, NODE, TWIN } from '../catalog.ts';
import { bucket, orZero, quantile, rate, sel, sumBy } from '../promql.ts';

// The one PromQL builder the alerts and the dashboards share.

describe('lib/promql', () => {
  it('writes every matcher kind, quoted as PromQL strings, in the order given, leaving undefined ones out', () => {
    expect(sel(KSM.podStatusReady, { job: 'kube-state-metrics', namespace: undefined, pod: { re: 'myhero-.*' }, condition: { ne: 'false' }, phase: { notRe: 'Failed|Unknown' } })).toBe(
      'kube_pod_status_ready{job="kube-state-metrics", pod=~"myhero-.*", condition!="false", phase!~"Failed|Unknown"}',
    );
    expect(sel(NODE.load1)).toBe('node_load1');
    // Backslashes and quotes are escaped, Grafana variables pass through.
    expect(sel(NODE.networkReceive, { device: { re: 'eth\\d+"' }, instance: { re: '($node)(:[0-9]+)?' } })).toBe(
      'node_network_receive_bytes_total{device=~"eth\\\\d+\\"", instance=~"($node)(:[0-9]+)?"}',
    );
  });

  it('composes rates, sums and quantiles', () => {
    const buckets = rate(sel(bucket(TWIN.httpDuration), { job: 'myhero-app' }), '5m');
    expect(buckets).toBe('rate(myhero_http_request_duration_seconds_bucket{job="myhero-app"}[5m])');
    expect(quantile(0.99, buckets, ['namespace'])).toBe(`histogram_quantile(0.99, sum by (le, namespace) (${buckets}))`);
    expect(sumBy([], 'x')).toBe('sum(x)');
    expect(sumBy(['a', 'b'], 'x')).toBe('sum by (a, b) (x)');
    // A series missing from the first operand reads as 0 wherever the second has one.
    expect(orZero('failed', 'all')).toBe('(failed or all * 0)');
  });
});
