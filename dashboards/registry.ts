import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import { gamedayDashboard } from './gameday.ts';
import { SUITE_TAG, dashboardLinks, type DashboardIdentity } from './links.ts';
import { loadtestDashboard } from './loadtest.ts';
import { myheroServiceDashboard } from './myhero-service.ts';
import { piClusterDashboard } from './pi-cluster.ts';
import { finish, type DashboardHead } from './toolkit.ts';
import { workloadsDashboard } from './workloads-autoscaling.ts';

// The one table of the dashboards the suite ships. Everything else derives from
// it: the links between them, the build, the JSON files and sidecar ConfigMaps
// (package.ts), push, and the tests' expectations. A new dashboard is one file
// exporting its builder plus one row here (dashboards/README.md, "Adding a dashboard").

/** A dashboard's code: its panels and variables on the head the registry gives it (uid, title, tags, links). */
export type BuildDashboard = (cfg: MonitoringConfig, head: DashboardHead) => dashboard.DashboardBuilder;

export interface DashboardRow<K extends string = string> extends DashboardIdentity {
  /** Its name in code: rows' `related` lists and the tests refer to it. */
  key: K;
  /** Fixed for good: bookmarks, links and push's created/updated/unchanged comparison key on it. */
  uid: string;
  /** File name stem (`<slug>.json`, ConfigMap `grafana-dashboard-<slug>`) and the last segment of its URL. */
  slug: string;
  title: string;
  /** Dashboards its top bar links to by name, in this order (beside the dropdown of all of them). */
  related: readonly NoInfer<K>[];
  build: BuildDashboard;
}

/** Types the table: `related` may name only keys of the table itself. */
const table = <const K extends string>(rows: readonly DashboardRow<K>[]) => rows;

export const DASHBOARDS = table([
  { key: 'piCluster', uid: 'myhero-pi-cluster', slug: 'pi-cluster', title: 'myhero / Pi cluster', related: ['gameday', 'workloads'], build: piClusterDashboard },
  { key: 'service', uid: 'myhero-service', slug: 'myhero-service', title: 'myhero / Service', related: ['loadtest', 'workloads', 'gameday'], build: myheroServiceDashboard },
  {
    key: 'workloads',
    uid: 'myhero-workloads',
    slug: 'workloads-autoscaling',
    title: 'myhero / Workloads and autoscaling',
    related: ['service', 'gameday', 'piCluster'],
    build: workloadsDashboard,
  },
  { key: 'loadtest', uid: 'myhero-loadtest', slug: 'loadtest', title: 'myhero / Load test', related: ['service', 'gameday'], build: loadtestDashboard },
  { key: 'gameday', uid: 'myhero-gameday', slug: 'gameday', title: 'myhero / Game day', related: ['service', 'workloads', 'piCluster', 'loadtest'], build: gamedayDashboard },
]);

export interface BuiltDashboard extends DashboardIdentity {
  key: string;
  /** Grafana's dashboard JSON model, plain data. */
  json: dashboard.Dashboard;
}

// Grafana's uid limit (40 characters of [a-zA-Z0-9_-]); a slug names a file and,
// behind `grafana-dashboard-`, a ConfigMap, whose name Kubernetes validates as a DNS subdomain.
const UID = /^[A-Za-z0-9_-]{1,40}$/;
const SLUG = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Throws on a table that contradicts itself: what the types cannot see (e.g. a row added in a test). */
function checkTable(rows: readonly DashboardRow[]): void {
  const problems: string[] = [];
  for (const field of ['key', 'uid', 'slug', 'title'] as const) {
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r[field])) problems.push(`${field} "${r[field]}" is used twice`);
      seen.add(r[field]);
    }
  }
  const keys = new Set(rows.map((r) => r.key));
  for (const r of rows) {
    if (!UID.test(r.uid)) problems.push(`${r.key}: uid "${r.uid}" is not 1-40 of [A-Za-z0-9_-]`);
    if (!SLUG.test(r.slug)) problems.push(`${r.key}: slug "${r.slug}" is not lowercase letters, digits and inner '-'`);
    for (const k of r.related) if (!keys.has(k) || k === r.key) problems.push(`${r.key}: related "${k}" is ${k === r.key ? 'itself' : 'not in the table'}`);
  }
  if (problems.length > 0) throw new Error(`dashboard table: ${problems.join('; ')}`);
}

/** Builds every row of the table (the suite's, or another in tests). */
export function buildDashboards(cfg: MonitoringConfig, rows: readonly DashboardRow[] = DASHBOARDS): BuiltDashboard[] {
  checkTable(rows);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  return rows.map(({ key, uid, slug, title, related, build }) => {
    const head: DashboardHead = { uid, title, tags: [SUITE_TAG], links: dashboardLinks(cfg, related.map((k) => byKey.get(k)!)) };
    return { key, uid, slug, title, json: finish(build(cfg, head).build()) };
  });
}
