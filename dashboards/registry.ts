import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { gamedayDashboard } from './gameday.ts';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import { DASHBOARDS, type DashboardKey } from './links.ts';
import { loadtestDashboard } from './loadtest.ts';
import { myheroServiceDashboard } from './myhero-service.ts';
import { piClusterDashboard } from './pi-cluster.ts';
import { workloadsDashboard } from './workloads-autoscaling.ts';

// Every dashboard the suite ships, built from code and the monitoring config.

export interface BuiltDashboard {
  key: DashboardKey;
  /** File name stem: `<slug>.json`, ConfigMap `grafana-dashboard-<slug>`. */
  slug: string;
  uid: string;
  title: string;
  /** Grafana's dashboard JSON model, plain data. */
  json: dashboard.Dashboard;
}

const BUILDERS: Record<DashboardKey, (cfg: MonitoringConfig) => dashboard.Dashboard> = {
  piCluster: piClusterDashboard,
  service: myheroServiceDashboard,
  workloads: workloadsDashboard,
  loadtest: loadtestDashboard,
  gameday: gamedayDashboard,
};

export function buildDashboards(cfg: MonitoringConfig): BuiltDashboard[] {
  return (Object.keys(BUILDERS) as DashboardKey[]).map((key) => ({
    key,
    slug: DASHBOARDS[key].slug,
    uid: DASHBOARDS[key].uid,
    title: DASHBOARDS[key].title,
    json: BUILDERS[key](cfg),
  }));
}
