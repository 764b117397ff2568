import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import type { Link } from './toolkit.ts';

// Identities of the suite's dashboards and the links between them and to the
// alert runbooks. UIDs are part of the product: bookmarks, links and the push
// command's created/updated/unchanged comparison all key on them, so they never change.

export const DASHBOARDS = {
  piCluster: { uid: 'myhero-pi-cluster', slug: 'pi-cluster', title: 'myhero / Pi cluster' },
  service: { uid: 'myhero-service', slug: 'myhero-service', title: 'myhero / Service' },
  workloads: { uid: 'myhero-workloads', slug: 'workloads-autoscaling', title: 'myhero / Workloads and autoscaling' },
  loadtest: { uid: 'myhero-loadtest', slug: 'loadtest', title: 'myhero / Load test' },
  gameday: { uid: 'myhero-gameday', slug: 'gameday', title: 'myhero / Game day' },
} as const;

export type DashboardKey = keyof typeof DASHBOARDS;

/** Tag on every suite dashboard: the "myhero dashboards" dropdown lists them by it. */
export const SUITE_TAG = 'myhero';

/** Where alerts/runbooks/<Alert>.md is published: the monitoring config's base, which the alert rules' runbook_url uses too. */
export type LinkOptions = Pick<MonitoringConfig, 'runbookBaseUrl'>;

/** Link to the runbook of an alert of alerts/rules (the runbook's file name is the alert name). */
export function runbook(opts: LinkOptions, alert: string): Link {
  return { title: `Runbook: ${alert}`, url: `${opts.runbookBaseUrl.replace(/\/+$/, '')}/${alert}.md` };
}

/** The dashboard-level links: every suite dashboard by tag, the closest relatives by name, the runbooks. */
export function dashboardLinks(opts: LinkOptions, related: readonly DashboardKey[]): dashboard.DashboardLinkBuilder[] {
  const all = new dashboard.DashboardLinkBuilder('myhero dashboards')
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags([SUITE_TAG])
    .asDropdown(true)
    .keepTime(true)
    .icon('external link')
    .tooltip('All myhero-ops dashboards');
  const direct = related.map((key) =>
    new dashboard.DashboardLinkBuilder(DASHBOARDS[key].title)
      .type(dashboard.DashboardLinkType.Link)
      .url(`/d/${DASHBOARDS[key].uid}/${DASHBOARDS[key].slug}`)
      .icon('dashboard')
      .tooltip(`Open ${DASHBOARDS[key].title} for the same time range`)
      .keepTime(true)
      .includeVars(true),
  );
  const runbooks = new dashboard.DashboardLinkBuilder('Alert runbooks')
    .type(dashboard.DashboardLinkType.Link)
    .url(opts.runbookBaseUrl)
    .icon('doc')
    .tooltip('What each alert means and how to fix it')
    .targetBlank(true);
  return [all, ...direct, runbooks];
}
