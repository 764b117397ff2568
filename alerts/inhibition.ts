import { setTimeout as sleep } from 'node:timers/promises';
import { startAlertmanager } from '../lib/promstack.ts';
import { alertmanagerConfig } from './alertmanager.ts';
import { alertmanagerSettings, templateFiles } from './bundle.ts';
import type { InhibitionCase } from './cases/inhibition.ts';
import type { AlertsConfig } from './config.ts';
import { toYaml } from './render.ts';

// amtool cannot test inhibition, so this posts alerts to a real Alertmanager
// running the built config and reads back which ones it inhibits.

export interface InhibitionOutcome {
  case: InhibitionCase;
  /** What Alertmanager reports: inhibited by at least one other alert. */
  inhibited: boolean;
}

interface ApiAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** An alert as posted to Alertmanager's API; `endsAt` in the past resolves it. */
export interface PostedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
}

/** Post alerts to `amUrl` in one request (so inhibition is decided with all of them present). */
export async function postAlerts(amUrl: string, alerts: readonly PostedAlert[], signal?: AbortSignal): Promise<void> {
  const now = new Date().toISOString();
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ annotations: {}, startsAt: now, ...a }))),
    signal,
  });
  if (!res.ok) throw new Error(`Alertmanager refused the alerts: HTTP ${res.status} ${await res.text()}`);
}

/** Ask a running Alertmanager which of the cases' alerts it inhibits. */
export async function inhibitionOutcomes(amUrl: string, cases: readonly InhibitionCase[], signal?: AbortSignal, timeoutMs = 10_000): Promise<InhibitionOutcome[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${amUrl}/api/v2/alerts`, { signal });
    const alerts = (await res.json()) as ApiAlert[];
    const found = cases.map((c) => alerts.find((a) => sameLabels(a.labels, c.labels)));
    if (found.every(Boolean)) {
      return cases.map((c, i) => ({ case: c, inhibited: found[i]!.status.inhibitedBy.length > 0 }));
    }
    if (Date.now() > deadline) throw new Error(`Alertmanager did not list all ${cases.length} posted alerts within ${timeoutMs} ms`);
    await sleep(100, undefined, { signal });
  }
}

/**
 * Start a real Alertmanager with the config built from `cfg`, post the cases,
 * and return what it inhibited. Slack URL files in `cfg` decide where any
 * notification would go; callers that only check inhibition point them at a
 * closed loopback port and stop long before group_wait ends.
 */
export async function checkInhibition(cfg: AlertsConfig, cases: readonly InhibitionCase[], signal?: AbortSignal): Promise<InhibitionOutcome[]> {
  const templates = Object.fromEntries(Object.entries(templateFiles()).map(([name, text]) => [`templates/${name}`, text]));
  const am = await startAlertmanager({ config: toYaml(alertmanagerConfig(alertmanagerSettings(cfg, 'templates/*.tmpl'))), files: templates });
  try {
    await postAlerts(am.url, cases, signal);
    return await inhibitionOutcomes(am.url, cases, signal);
  } finally {
    await am.stop();
  }
}
