import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import type { Link } from './toolkit.ts';

// The links between the suite's dashboards and to the alert runbooks. Which
// dashboards exist and which link to which is the table in registry.ts.

/** What a link to a dashboard needs: Grafana's `/d/<uid>/<slug>` path and its title. */
export interface DashboardIdentity {
  uid: string;
  slug: string;
  title: string;
}

/** Tag on every suite dashboard: the "myhero dashboards" dropdown lists them by it. */
export const SUITE_TAG = 'myhero';

/** Where alerts/runbooks/<Alert>.md is published: the monitoring config's base, which the alert rules' runbook_url uses too. */
export type LinkOptions = Pick<MonitoringConfig, 'runbookBaseUrl'>;

/** Link to the runbook of an alert of alerts/rules (the runbook's file name is the alert name). */
export function runbook(opts: LinkOptions, alert: string): Link {
  return { title: `Runbook: ${alert}`, url: `${opts.runbookBaseUrl.replace(/\/+$/, '')}/${alert}.md` };
}

/** Grafana's URL path of a dashboard. */
export const dashboardPath = (d: DashboardIdentity): string => `/d/${d.uid}/${d.slug}`;

/** The dashboard-level links: every suite dashboard by tag, the closest relatives by name, the runbooks. */
export function dashboardLinks(opts: LinkOptions, related: readonly DashboardIdentity[]): dashboard.DashboardLinkBuilder[] {
  const all = new dashboard.DashboardLinkBuilder('myhero dashboards')
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags([SUITE_TAG])
    .asDropdown(true)
    .keepTime(true)
    .icon('external link')
    .tooltip('All myhero-ops dashboards');
  const direct = related.map((d) =>
    new dashboard.DashboardLinkBuilder(d.title)
      .type(dashboard.DashboardLinkType.Link)
      .url(dashboardPath(d))
      .icon('dashboard')
      .tooltip(`Open ${d.title} for the same time range`)
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
